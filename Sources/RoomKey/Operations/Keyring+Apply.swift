import Foundation
import GRDB
import RoomKeyCore

/// What `apply` did, or would do, to one room.
public struct AppliedRoom: Sendable {
    /// The room's name.
    public let name: String
    /// The room id (nil for a room a dry run would create).
    public let roomID: RoomID?
    /// The epoch after the change.
    public let epoch: UInt64
    /// The bundle written (nil in a dry run, or when the room was already up to date).
    public let bundle: String?
    /// The same operations with whom each is about: its verb, and the identity id and handle (none for `create`), so a
    /// dry run shows who a name in the script turned out to be.
    public var changes: [(verb: String, id: IdentityID?, handle: String?)] = []
    /// The operations of the commit, by verb (empty for a plain rotation or a room already up to date).
    public var operations: [String] { changes.map(\.verb) }
    /// True when the room's lines asked for nothing new (`members`, `add --if-missing`, `remove --if-present` already
    /// satisfied): no commit, no bundle.
    public var upToDate: Bool = false
    /// The remote the room's change was staged for (the room has a git remote: `sync` publishes it); nil when committed.
    public var staged: String? = nil
}

/// Batch membership changes: the whole script is checked first, then every room gets one commit and one bundle,
/// all in one transaction. A room with a git remote gets its change staged instead (`commit` decides).
extension Keyring {
    /// A room's planned change: the operations of its one commit (none for a plain rotation).
    private struct Planned {
        let name: String
        let existing: StoredRoom?
        let operations: [Operation]
        /// A `rotate` line asked for a new sender key (an existing room whose lines make no operations rotates only then).
        let rotate: Bool
        /// An existing room that needs nothing: no operations and no `rotate` line.
        var upToDate: Bool { existing != nil && operations.isEmpty && !rotate }
    }

    /// Checks the script against the keyring and returns the plan, or throws `ScriptError` naming the first bad line.
    /// Each line is applied to the roster the lines before it produced, with the same rules as a commit.
    private func plan(_ db: Database, _ script: ApplyScript, me: borrowing LocalIdentity, allowSameHandle: Bool) throws -> [Planned] {
        try roomGroups(db, script).map { group in
            var existing: StoredRoom?
            var roster = Roster()
            // Built at the first line that adds someone, then kept up to date line by line, so each line costs what it
            // changes, not a pass over a large roster (a script that only removes or changes roles never builds it).
            var handles: HandleIndex?
            var ops: [Operation] = []
            for (index, line) in group.lines.enumerated() {
                do {
                    if line.verb == .create {
                        guard index == 0 else { throw ScriptError.line(line.number, "create must be the first change to \(line.room)") }
                        try checkNewRoomName(db, line.room)
                        ops = try sealableContacts(db, line.arguments).map { Operation.add($0.card) }
                        if !allowSameHandle { try refuseSameHandles(creator: me.card, adding: ops, room: line.room) }
                        roster = try RoomState.apply([.create(name: line.room, creator: me.card)] + ops, to: Roster(), author: me.id,
                                                     genesis: true)
                        continue
                    }
                    if index == 0 {
                        let room = try distributableRoom(db, line.room, me: me.id)
                        existing = room
                        roster = room.state.roster
                    }
                    let changes: [MembershipChange] = switch line.verb {
                    case .add: [line.ifNeeded ? .addIfMissing(line.arguments) : .add(line.arguments)]
                    case .remove: [line.ifNeeded ? .removeIfPresent(line.arguments) : .remove(line.arguments)]
                    case .promote: line.arguments.map { .promote($0) }
                    case .demote: line.arguments.map { .demote($0) }
                    case .replace: line.arguments.map { .replace($0) }
                    case .members: [.members(line.arguments, admins: line.admins)]
                    case .rotate, .create: []
                    }
                    let lineOps = try changes.flatMap { try operations(db, for: $0, roster: roster, room: line.room, me: me.id) }
                    if let existing { try refuseClassicalAdds(db, room: existing, lineOps) }
                    if !allowSameHandle && !lineOps.addedCards.isEmpty {
                        let index = handles ?? HandleIndex(roster)
                        try refuseSameHandles(index, adding: lineOps, room: line.room)
                        handles = index
                    }
                    if !lineOps.isEmpty {
                        try checkedApply(lineOps, to: &roster, me: me.id)
                        handles?.record(lineOps, author: me.id)
                    }
                    ops += lineOps
                } catch let error as ScriptError {
                    throw error
                } catch let error as any RoomKeyError where error.category == .usage || error.category == .malformed {
                    // A line the direct command would take as a usage error is bad input in a script file.
                    throw ScriptError.line(line.number, error.message)
                } catch let error as any RoomKeyError {
                    // The same mistake gets the same code as from the direct command (DESIGN §5): a forked room's
                    // line got 65 here, "fix the line" (a review).
                    throw ScriptError.failed(line.number, error.message, category: error.category, hint: error.hint)
                }
            }
            return Planned(name: existing?.name ?? group.room, existing: existing, operations: ops,
                           rotate: group.lines.contains { $0.verb == .rotate })
        }
    }

    /// The script's lines grouped by the room they name, however they name it (by name, by id in either case), rooms
    /// in order of first mention. Grouped by the words written, `team` and its id were two rooms, each planned from the
    /// state before the other's commit: the second then saved that stale state over the first's commit, or committed
    /// its epoch again (a hostile review: a room stuck at a false integrity failure). A name no room has (a `create`,
    /// or a line that fails when its group is planned) groups by itself.
    private func roomGroups(_ db: Database, _ script: ApplyScript) throws -> [(room: String, lines: [ApplyScript.Line])] {
        var keys: [String: String] = [:]
        func key(_ room: String) -> String {
            if let known = keys[room] { return known }
            let found = (try? findRoom(db, room)).map { "id " + $0.id.hex } ?? "name " + room
            keys[room] = found
            return found
        }
        return script.lines.groupedInOrder { key($0.room) }.map { (room: $0[0].room, lines: $0) }
    }

    /// Checks `script`, then (unless `dryRun`) applies it: one commit and one bundle per room, in one transaction.
    /// Bundles are recorded in the outbox with the changes and written out only after the transaction commits. Unless `allowSameHandle`, a line that would put
    /// two identities with the same handle in a room is refused.
    public func apply(_ script: ApplyScript, dryRun: Bool, allowSameHandle: Bool = false,
                      deliver: BundleDelivery) throws -> [AppliedRoom] {
        if !dryRun { try automaticPrune() }
        let me = try identity()
        if dryRun {
            return try read { db in
                try plan(db, script, me: me, allowSameHandle: allowSameHandle).map { p in
                    AppliedRoom(name: p.name, roomID: p.existing?.id, epoch: p.existing.map { $0.state.epoch + (p.operations.isEmpty ? 0 : 1) } ?? 0,
                                bundle: nil, changes: Self.changes(p), upToDate: p.upToDate)
                }
            }
        }
        return try write { db in
            try plan(db, script, me: me, allowSameHandle: allowSameHandle).map { p in
                if p.upToDate, let room = p.existing {
                    return AppliedRoom(name: p.name, roomID: room.id, epoch: room.state.epoch, bundle: nil, upToDate: true)
                }
                let result: CommitResult
                if let room = p.existing {
                    result = p.operations.isEmpty
                        ? try rotate(db, room: room, me: me, deliver: deliver)
                        : try commit(db, room: room, operations: p.operations, me: me, deliver: deliver)
                } else {
                    result = try createRoom(db, name: p.name, operations: p.operations, me: me, deliver: deliver)
                }
                return AppliedRoom(name: p.name, roomID: result.room.id, epoch: result.room.state.epoch,
                                   bundle: result.stagedFor == nil ? result.bundlePath : nil, changes: Self.changes(p),
                                   staged: result.stagedFor)
            }
        }
    }

    /// A plan's operations with whom each is about (an added card's own id and handle, else the member's in the roster).
    private static func changes(_ p: Planned) -> [(verb: String, id: IdentityID?, handle: String?)] {
        var handles: [IdentityID: String] = [:]
        for op in p.operations { if case let .add(card) = op { handles[card.id] = card.handle } }
        return (p.existing == nil ? [("create", nil, nil)] : []) + p.operations.map { op in
            if case let .add(card) = op { return (op.verb, card.id, card.handle) }
            let id = op.subject
            return (op.verb, id, id.flatMap { handles[$0] ?? p.existing?.state.roster[$0]?.card.handle })
        }
    }
}
