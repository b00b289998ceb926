import Foundation
import GRDB
import RoomKeyCore

/// Forks: a second, different, valid commit for an accepted epoch marks the room, which then distributes no
/// keys until an admin keeps one branch.
extension Keyring {
    /// A commit that differs from the accepted one of its epoch. If it chains to the accepted head before it, is
    /// valid there, and comes in a bundle signed by a member of that epoch, the room is marked forked (only the
    /// room record changes) and the bundle is rejected naming both heads; otherwise it is simply rejected.
    func fork(_ db: Database, record: RoomRecord, bundle: Bundle, content: borrowing BundleContent, commit: Commit,
              stored: Commit?) throws -> Outcome {
        guard let stored else { throw KeyringError.integrityFailure(table: "room_commit") }
        let base: Roster
        if commit.epoch == 0 {
            // Anyone can sign a genesis of their own: only the same creator signing two is a fork.
            guard commit.author == stored.author else { throw LogError.authorNotMember(commit.author) }
            _ = try RoomState.genesis(commit)
            base = try RoomState.genesis(stored).roster
        } else {
            guard let prior = try storedCommit(db, bundle.roomID, commit.epoch - 1),
                  let roster = try epochRoster(db, bundle.roomID, commit.epoch - 1) else { throw BundleError.epochUnknown(commit.epoch - 1) }
            guard commit.previousHead == prior.head else { throw LogError.brokenChain(epoch: commit.epoch) }
            let state = RoomState(roomID: bundle.roomID, name: record.name, epoch: commit.epoch - 1, head: prior.head, roster: roster)
            _ = try state.applying(commit)
            base = roster
        }
        guard let card = base[bundle.sender]?.card else { throw BundleError.senderNotMember(bundle.sender, epoch: commit.epoch) }
        try content.verify(signer: card.signingKey)
        var marked = record
        marked.forked = true
        marked.forkHeads = [Hex.encode(stored.head), Hex.encode(commit.head)]
        try saveRecord(db, marked)
        try audit(db, .commitApplied, "\(record.name) FORK at epoch \(commit.epoch): \(Hex.encode(stored.head)) vs \(Hex.encode(commit.head))")
        return .rejected(LogError.fork(epoch: commit.epoch, ours: stored.head, theirs: commit.head))
    }

    /// Clears this keyring's fork mark on a room it administers, keeping the accepted branch. The admin's next
    /// commit on that branch then clears the mark for every member who applies it.
    public func resolveFork(of nameOrID: String) throws -> StoredRoom {
        let me = try identityCard().id
        try automaticPrune()
        return try write { db in
            var room = try findRoom(db, nameOrID)
            guard room.forked else { return room }
            guard room.state.roster[me]?.admin == true else { throw LogError.notAdmin(me) }
            try audit(db, .commitApplied, "\(room.name) fork resolved by keeping epoch \(room.state.epoch), head \(Hex.encode(room.state.head))")
            room.forked = false
            room.forkHeads = []
            try saveRoom(db, room)
            return room
        }
    }
}
