import Foundation
import GRDB
import RoomKeyCore

/// Forks: checked evidence of a second commit for an accepted epoch marks the room, which then distributes no
/// keys until an admin keeps one branch.
extension Keyring {
    /// Marks a room forked on evidence the core checked (`BundleDecision.fork`): only the room record changes.
    func markFork(_ db: Database, _ id: RoomID, _ evidence: ForkEvidence) throws {
        guard var record = try loadRoomRecord(db, id) else { throw KeyringError.integrityFailure(table: "room") }
        record.forked = true
        record.forkHeads = [Hex.encode(evidence.ours), Hex.encode(evidence.theirs)]
        try saveRecord(db, record)
        try audit(db, .commitApplied,
                  "\(record.name) FORK at epoch \(evidence.epoch): \(Hex.encode(evidence.ours)) vs \(Hex.encode(evidence.theirs))")
    }

    /// Clears this keyring's fork mark on a room it administers, keeping the accepted branch. The admin's next
    /// commit on that branch then clears the mark for every member who applies it. In a room that is not forked, it
    /// clears the restore mark (`StoredRoom.restoredBehind`) instead: the admin says its epoch is the room's latest, as
    /// the members confirmed, so a file at the next epoch naming it is replaced again (a member with push access could
    /// otherwise hold a restored admin back for good, a review). `restoreMarkCleared` says which.
    public func resolveFork(of nameOrID: String) throws -> (room: StoredRoom, wasForked: Bool, restoreMarkCleared: Bool) {
        let me = try identityCard().id
        try automaticPrune()
        return try write { db in
            var room = try findRoom(db, nameOrID)
            guard room.forked || room.restoredBehind else { return (room, false, false) }
            // A rule of this keyring's own request, refused (exit 6) as any change by a member who is not an admin; it
            // was exit 2 as a commit of someone else's ("commit author ... is not an admin": a review).
            guard room.state.roster[me]?.admin == true else { throw RefusedChange(rule: .notAdmin(me)) }
            guard room.forked else {
                try audit(db, .commitApplied, "\(Self.auditRoom(room.name, room.id)) restore mark cleared at epoch \(room.state.epoch)")
                room.restoredBehind = false
                try saveRoom(db, room)
                return (room, false, true)
            }
            try audit(db, .commitApplied, "\(Self.auditRoom(room.name, room.id)) fork resolved by keeping epoch \(room.state.epoch), head \(Hex.encode(room.state.head))")
            room.forked = false
            room.forkHeads = []
            try saveRoom(db, room)
            return (room, true, false)
        }
    }
}
