import Foundation
import RoomKeyCore

/// A room as this keyring knows it: the accepted state plus local bookkeeping.
public struct StoredRoom: Sendable {
    /// The accepted log's state.
    public var state: RoomState
    /// True once a conflicting valid commit was seen; distribution stops until an admin resolves it.
    public var forked: Bool
    /// The two heads of the fork, if any.
    public var forkHeads: [String]
    /// The generation of this member's current sender key at the current epoch.
    public var ownGeneration: UInt32
    /// The epoch at which this keyring joined the room.
    public var joinedEpoch: UInt64
    /// The epoch whose fingerprint the user confirmed, if any.
    public var confirmedEpoch: UInt64?
    /// True when a commit was applied and this member has not yet distributed its new sender key.
    public var rotationDue = false
    /// How long superseded sender keys stay usable, in seconds (local setting, `room set --retention`).
    public var retentionSeconds = RoomPolicy.defaultRetentionSeconds
    /// This member's sender key rotates after this many messages (local setting, `room set --rotate-messages`).
    public var rotateMessages = RoomPolicy.defaultRotateMessages
    /// This member's sender key rotates once it is this old, in seconds (local setting, `room set --rotate-after`).
    public var rotateAfterSeconds = RoomPolicy.defaultRotateAfterSeconds
    /// Every epoch whose fingerprint the user confirmed.
    public var confirmedEpochs: [UInt64] = []
    /// True once this member left the room (`room leave`): its keys are gone and it distributes nothing.
    public var left = false
    /// True when every stanza must be post-quantum (`room set --require-pq`, local setting): members on version 1
    /// cards cannot be added, and nothing is distributed while one is in the roster.
    public var requirePQ = false
    /// True from a restore or an accepted rollback until a sync finds no commit on the remote past this keyring's epoch:
    /// till then a commit file at the next epoch naming this identity as its sender may be its own, made after the
    /// backup, and is never replaced (`LockFileCheck.judge`'s `restored`; a review saw such a replacement split a room).
    public var restoredBehind = false

    /// The room id.
    public var id: RoomID { state.roomID }
    /// The room name.
    public var name: String { state.name }
    /// The room as a suggested command names it: its name, or its id when the name shows escaped (`ShellWord.reference`).
    public var commandName: String { ShellWord.reference(state.name, id: state.roomID.hex) }

    /// Makes this member's next sender key due: a new generation, made and sent by the next command that can (as after
    /// a commit). Nothing changes when one is due already.
    mutating func owesNewGeneration() {
        guard !rotationDue else { return }
        ownGeneration &+= 1
        rotationDue = true
    }
}

/// The sealed plaintext of a `room` row (JSON); the roster lives in the `room_epoch` row of the current epoch.
struct RoomRecord: Codable {
    var roomID: String
    var name: String
    var epoch: UInt64
    var head: String
    var forked: Bool
    var forkHeads: [String]
    var ownGeneration: UInt32
    var joinedEpoch: UInt64
    var confirmedEpoch: UInt64?
    var rotationDue: Bool?
    var confirmedEpochs: [UInt64]?
    var retentionSeconds: UInt64?
    var rotateMessages: UInt32?
    var rotateAfterSeconds: UInt64?
    var left: Bool?
    var requirePQ: Bool?
    /// Restored from a backup and not yet caught up with the remote (`StoredRoom.restoredBehind`). Only the binary form
    /// holds it.
    var restored: Bool?
    /// The time of the commit at `epoch` (nil in rows written before it was kept). Only the binary form holds it.
    var headTime: UInt64?

    /// The keys of the JSON form, as rows were written before the binary form: without `headTime`.
    enum CodingKeys: String, CodingKey {
        case roomID, name, epoch, head, forked, forkHeads, ownGeneration, joinedEpoch, confirmedEpoch, rotationDue
        case confirmedEpochs, retentionSeconds, rotateMessages, rotateAfterSeconds, left, requirePQ
    }

    init(_ room: StoredRoom) {
        roomID = room.id.hex
        name = room.name
        epoch = room.state.epoch
        head = Hex.encode(room.state.head)
        forked = room.forked
        forkHeads = room.forkHeads
        ownGeneration = room.ownGeneration
        joinedEpoch = room.joinedEpoch
        confirmedEpoch = room.confirmedEpoch
        rotationDue = room.rotationDue
        confirmedEpochs = room.confirmedEpochs
        retentionSeconds = room.retentionSeconds
        rotateMessages = room.rotateMessages
        rotateAfterSeconds = room.rotateAfterSeconds
        left = room.left ? true : nil
        requirePQ = room.requirePQ ? true : nil
        restored = room.restoredBehind ? true : nil
        headTime = room.state.headTime
    }

    /// The retention window, with the default for rows written before it existed.
    var retention: UInt64 { retentionSeconds ?? RoomPolicy.defaultRetentionSeconds }

    /// The stored room, given the roster of its current epoch (kept in its own `room_epoch` row).
    func room(roster: Roster) throws -> StoredRoom {
        let state = RoomState(roomID: try RoomID(bytes: Hex.decode(roomID, what: "room id")), name: name, epoch: epoch,
                              head: try Hex.decode(head, what: "head"), headTime: headTime, roster: roster)
        return StoredRoom(state: state, forked: forked, forkHeads: forkHeads, ownGeneration: ownGeneration,
                          joinedEpoch: joinedEpoch, confirmedEpoch: confirmedEpoch, rotationDue: rotationDue ?? false,
                          retentionSeconds: retention, rotateMessages: rotateMessages ?? RoomPolicy.defaultRotateMessages,
                          rotateAfterSeconds: rotateAfterSeconds ?? RoomPolicy.defaultRotateAfterSeconds,
                          confirmedEpochs: confirmedEpochs ?? [], left: left ?? false, requirePQ: requirePQ ?? false,
                          restoredBehind: restored ?? false)
    }
}

/// Errors about rooms in this keyring.
public enum RoomError: Error, Equatable, Sendable {
    /// No room matches the name or id.
    case notFound(String)
    /// Several rooms share the name.
    case ambiguous(name: String, ids: [String])
    /// A room with this name already exists here.
    case nameTaken(String)
    /// The room is forked and refuses to distribute keys.
    case forked(room: String, heads: [String])
    /// This keyring is no longer a member of the room.
    case notMember(room: String)
    /// This member left the room and waits for an admin to remove it.
    case left(room: String)
    /// A contact whose key changed cannot receive keys until verified or accepted.
    case keyChangedContact(name: String)
    /// The contact is not a member of the room.
    case contactNotMember(name: String, room: String)
    /// Adding the contact would put two identities with the same handle on the roster.
    case sameHandle(room: String, HandleCollision)
    /// The contact's current identity is a member already.
    case alreadyMember(name: String, room: String)
    /// An older identity of the contact (one a key change replaced) is still a member; `pending` when the new key is
    /// neither verified nor accepted.
    case oldKeyMember(name: String, room: String, old: IdentityID, pending: Bool)
    /// `replace` of a contact whose identity key never changed.
    case keyNotChanged(name: String)
    /// `replace` of a contact none of whose older identities is a member (`current`: its current identity is).
    case oldKeyNotMember(name: String, room: String, current: Bool)
    /// The room requires post-quantum stanzas and these members (names or handles) are on version 1 cards.
    case classicalMembers(room: String, names: [String], adding: Bool)
}

extension RoomError: RoomKeyError {
    /// The exit-code category.
    public var category: ErrorCategory {
        switch self {
        case .notFound: .notFound
        case .ambiguous: .usage
        case .forked: .rejected
        case .nameTaken, .sameHandle, .left, .keyChangedContact, .alreadyMember, .notMember, .contactNotMember, .oldKeyMember, .keyNotChanged,
             .oldKeyNotMember, .classicalMembers: .refused
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .notFound(name): "no room named \"\(name)\""
        case let .ambiguous(name, ids): "several rooms are named \"\(name)\": \(ids.joined(separator: ", "))"
        case let .nameTaken(name): "a room named \"\(name)\" already exists"
        case let .forked(room, heads): "room \"\(room)\" is forked (heads \(heads.joined(separator: " and "))); it distributes no keys"
        case let .notMember(room): "you are no longer a member of room \"\(room)\""
        case let .left(room): "you left room \"\(room)\"; it distributes nothing from here"
        case let .keyChangedContact(name): "the identity key of contact \"\(name)\" changed; no keys are sealed to the new key until you verify or accept it"
        case let .alreadyMember(name, room): "\"\(name)\" is already a member of room \"\(room)\""
        case let .oldKeyMember(name, room, old, true):
            "\"\(name)\" is a member of room \"\(room)\" under its old identity key (\(old.shortHex)); its new key is neither verified nor accepted"
        case let .oldKeyMember(name, room, old, false):
            "\"\(name)\" is a member of room \"\(room)\" under its old identity key (\(old.shortHex)); adding the new key beside it is refused"
        case let .keyNotChanged(name): "the identity key of contact \"\(name)\" has not changed; there is nothing to replace"
        case let .oldKeyNotMember(name, room, true): "\"\(name)\" is already a member of room \"\(room)\" under its current identity key"
        case let .oldKeyNotMember(name, room, false): "no earlier identity key of \"\(name)\" is a member of room \"\(room)\""
        case let .contactNotMember(name, room): "\"\(name)\" is not a member of room \"\(room)\""
        case let .classicalMembers(room, names, adding):
            adding ? "room \"\(room)\" requires post-quantum cards; \(SafeText.quotedList(names)) \(names.count == 1 ? "has" : "have") a version 1 card"
                : "room \"\(room)\" requires post-quantum cards and \(SafeText.quotedList(names)) \(names.count == 1 ? "is" : "are") still on a version 1 card; nothing was distributed"
        case let .sameHandle(room, c) where c.existingIsMember:
            "room \"\(room)\" already has a member with the handle \"\(c.handle)\" (\(c.existing.shortHex)); \(c.added.shortHex) would look the same"
        case let .sameHandle(room, c):
            "two contacts added to room \"\(room)\" have the handle \"\(c.handle)\" (\(c.existing.shortHex) and \(c.added.shortHex))"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .notFound: "list rooms with 'roomkey room list'"
        case .ambiguous: "name the room by its id"
        case .nameTaken: "choose another name; 'roomkey room list' shows the rooms you have"
        case let .keyChangedContact(name):
            "compare safety numbers with '\(ShellWord.command(["verify"], [name]))', or run '\(ShellWord.command(["contact", "accept"], [name]))'"
        case let .oldKeyMember(name, room, _, true):
            "compare safety numbers with '\(ShellWord.command(["verify"], [name]))' or run '\(ShellWord.command(["contact", "accept"], [name]))', then '\(ShellWord.command(["room", "replace"], [room, name]))'"
        case let .oldKeyMember(name, room, _, false): "swap the old key for the new one with '\(ShellWord.command(["room", "replace"], [room, name]))'"
        case let .oldKeyNotMember(name, room, false): "add the contact with '\(ShellWord.command(["room", "add"], [room, name]))'"
        case .forked: "compare the room fingerprint with the other members; an admin must resolve the fork"
        case let .classicalMembers(room, _, _):
            "each of them runs 'roomkey id upgrade' and you 'roomkey contact add' the new card, or '\(ShellWord.command(["room", "set"], [room], options: ["--no-require-pq"]))'"
        case .sameHandle: "to add them anyway, run again with --allow-same-handle; listings then show each with its short id"
        default: nil
        }
    }
}
