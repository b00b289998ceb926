import Foundation
import GRDB
import RoomKeyCore

/// What `room rejoin` did.
public struct RejoinResult: Sendable {
    /// The room after the change.
    public let room: StoredRoom
    /// True when this member is in the roster held here, and so owes a new sender key (made by the next command that
    /// settles the outbox, or `encrypt`).
    public let newKeyDue: Bool
    /// Leave requests of this room withdrawn from the outbox (kept there, they would be delivered or published again).
    public let withdrawn: Int
    /// Files of leave requests written already and removed, as they were still there as written.
    public let removed: [String]
    /// Files of leave requests written already that are no longer there as written: they may be on their way to the
    /// admin, who then removes this member.
    public let stillOut: [String]
}

/// Why `room rejoin` refused.
public enum RejoinError: Error, Equatable, Sendable {
    /// The room was not left.
    case notLeft(room: String)
}

extension RejoinError: RoomKeyError {
    /// Refused by a rule (exit 6).
    public var category: ErrorCategory { .refused }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .notLeft(room): "you have not left room \"\(room)\""
        }
    }
    /// Where to go from here.
    public var hint: String? { nil }
}

extension Keyring {
    /// Takes back a room this member left (`Rejoin`): the room is no longer marked left, its leave requests are
    /// withdrawn from the outbox, and, while the roster held here has this member, a new sender key is due. A bundle
    /// that adds the member again, received after this, takes it back in; one received before was left unapplied
    /// (`addsBack`). A request written already is removed through the sink's `withdraw` while its file is still there as
    /// written, before its entry goes; one not written yet is withdrawn before anything settles the outbox (which
    /// wrote it, and the file then stayed with nothing accounting for it; a crash review).
    public func rejoin(room nameOrID: String) throws -> RejoinResult {
        let me = try identityCard().id
        func decide(_ room: StoredRoom) throws -> Bool {
            switch Rejoin.decide(left: room.left, inRoster: room.state.roster[me] != nil) {
            case .notLeft: throw RejoinError.notLeft(room: room.name)
            case let .rejoin(newKeyDue): return newKeyDue
            }
        }
        let written = try read { db in
            let room = try findRoom(db, nameOrID)
            _ = try decide(room)
            return try outboxRecords(db, withBundles: { $0.roomID == room.id.hex && $0.kind == "leave-request" && $0.delivered != nil })
        }
        // Nothing else is settled here (the next command does it, and sends the new sender key): settling first wrote
        // the very requests this withdraws. Each file goes before its entry: a kill in between leaves an entry for a
        // file that is gone, never a file that nothing accounts for; the room is still left, and rejoin runs again.
        var removed: [String] = [], stillOut: [String] = []
        for item in written {
            if sink?.withdraw?(item.record.target, item.bytes) == true { removed.append(item.record.target) } else { stillOut.append(item.record.target) }
        }
        return try write { db in
            var room = try findRoom(db, nameOrID)
            let newKeyDue = try decide(room)
            room.left = false
            if newKeyDue { room.owesNewGeneration() }
            try saveRoom(db, room)
            let requests = try outboxRecords(db).filter { $0.record.roomID == room.id.hex && $0.record.kind == "leave-request" }
            try deleteOutboxEntries(db, tags: requests.map(\.tag))
            try audit(db, .roomPolicy, "\(Self.auditRoom(room.name, room.id)) rejoined at epoch \(room.state.epoch)"
                      + (requests.isEmpty ? "" : ", \(requests.count) leave request(s) withdrawn from the outbox")
                      + (stillOut.isEmpty ? "" : ", \(stillOut.count) already out"))
            return RejoinResult(room: room, newKeyDue: newKeyDue, withdrawn: requests.count, removed: removed, stillOut: stillOut)
        }
    }

    /// What receive says of a bundle that adds this member back to a room it left.
    static func addsBackWarning(room: String) -> String {
        "you left room \(room); this bundle adds you back: to take the room back, run 'roomkey room rejoin \(room)', then receive it again"
    }
}
