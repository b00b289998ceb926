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
}

/// Why `room rejoin` refused.
public enum RejoinError: Error, Equatable, Sendable {
    /// The room was not left.
    case notLeft(room: String)
    /// The room is forked.
    case forked(room: String)
}

extension RejoinError: RoomKeyError {
    /// Refused by a rule (exit 6).
    public var category: ErrorCategory { .refused }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .notLeft(room): "you have not left room \"\(room)\""
        case let .forked(room): "room \"\(room)\" is forked"
        }
    }
    /// Where to go from here.
    public var hint: String? {
        switch self {
        case .notLeft: nil
        case let .forked(room): "resolve it first: roomkey room resolve \(room)"
        }
    }
}

extension Keyring {
    /// Takes back a room this member left (`Rejoin`): the room is no longer marked left, its leave requests still in the
    /// outbox are withdrawn, and, while the roster held here has this member, a new sender key is due. A bundle that adds
    /// the member again, received after this, takes it back in; one received before was left unapplied (`addsBack`).
    public func rejoin(room nameOrID: String) throws -> RejoinResult {
        try automaticPrune()
        let me = try identityCard().id
        return try write { db in
            var room = try findRoom(db, nameOrID)
            switch Rejoin.decide(left: room.left, forked: room.forked, inRoster: room.state.roster[me] != nil) {
            case .notLeft: throw RejoinError.notLeft(room: room.name)
            case .forked: throw RejoinError.forked(room: room.name)
            case let .rejoin(newKeyDue):
                room.left = false
                if newKeyDue { room.owesNewGeneration() }
                try saveRoom(db, room)
                let requests = try outboxRecords(db).filter { $0.record.roomID == room.id.hex && $0.record.kind == "leave-request" }
                try deleteOutboxEntries(db, tags: requests.map(\.tag))
                try audit(db, .roomPolicy, "\(Self.auditRoom(room.name, room.id)) rejoined at epoch \(room.state.epoch)"
                          + (requests.isEmpty ? "" : ", \(requests.count) leave request(s) withdrawn from the outbox"))
                return RejoinResult(room: room, newKeyDue: newKeyDue, withdrawn: requests.count)
            }
        }
    }

    /// What receive says of a bundle that adds this member back to a room it left.
    static func addsBackWarning(room: String) -> String {
        "you left room \(room); this bundle adds you back: to take the room back, run 'roomkey room rejoin \(room)', then receive it again"
    }
}
