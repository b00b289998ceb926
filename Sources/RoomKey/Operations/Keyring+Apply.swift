import Foundation
import GRDB

/// What `apply` did, or would do, to one room.
public struct AppliedRoom: Sendable {
    /// The room's name.
    public let name: String
    /// The room id (nil for a room a dry run would create).
    public let roomID: RoomID?
    /// The epoch after the change.
    public let epoch: UInt64
    /// The operations of the commit (empty for a plain rotation).
    public let operations: [String]
    /// The bundle written (nil in a dry run).
    public let bundle: String?
}

/// Batch membership changes: the whole script is checked first, then every room gets one commit and one bundle,
/// all in one transaction.
extension Keyring {
    /// A room's planned change: the operations by line, or a plain rotation.
    private struct Planned {
        let name: String
        let existing: StoredRoom?
        let operations: [Operation]
        let lines: [(Int, [Operation])]
    }

    /// Checks the script against the keyring and returns the plan, or throws `ScriptError` naming the first bad line.
    private func plan(_ db: Database, _ script: ApplyScript, me: borrowing LocalIdentity) throws -> [Planned] {
        try script.byRoom.map { group in
            var existing: StoredRoom?
            var roster = Roster()
            var ops: [Operation] = []
            var perLine: [(Int, [Operation])] = []
            for line in group.lines {
                do {
                    if line.verb == .create {
                        guard perLine.isEmpty else { throw ScriptError.line(line.number, "create must be the first change to \(line.room)") }
                        _ = try genesisCommit(db, name: line.room, operations: [], me: me)
                        roster = try RoomState.apply([.create(name: line.room, creator: me.card)], to: Roster(), author: me.id, genesis: true)
                        let adds = try line.arguments.map { Operation.add(try sealableContact(db, $0).card) }
                        roster = try adds.isEmpty ? roster : RoomState.apply(adds, to: roster, author: me.id, genesis: false)
                        ops += adds
                        perLine.append((line.number, adds))
                        continue
                    }
                    if existing == nil && perLine.isEmpty {
                        existing = try distributableRoom(db, line.room, me: me.id)
                        roster = existing?.state.roster ?? Roster()
                    }
                    let view = StoredRoom(state: RoomState(roomID: existing?.id ?? RoomID.random(using: random), name: line.room,
                                                           epoch: 0, head: [], roster: roster),
                                          forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: 0, confirmedEpoch: nil)
                    let lineOps: [Operation] = switch line.verb {
                    case .add: try operations(db, for: .add(line.arguments), in: view)
                    case .remove: try operations(db, for: .remove(line.arguments), in: view)
                    case .promote: try line.arguments.flatMap { try operations(db, for: .promote($0), in: view) }
                    case .demote: try line.arguments.flatMap { try operations(db, for: .demote($0), in: view) }
                    case .rotate, .create: []
                    }
                    if !lineOps.isEmpty {
                        if let author = roster[me.id], !author.admin { throw LogError.notAdmin(me.id) }
                        roster = try RoomState.apply(lineOps, to: roster, author: me.id, genesis: false)
                    }
                    ops += lineOps
                    perLine.append((line.number, lineOps))
                } catch let error as ScriptError {
                    throw error
                } catch let error as any RoomKeyError {
                    throw ScriptError.line(line.number, error.message)
                }
            }
            return Planned(name: group.room, existing: existing, operations: ops, lines: perLine)
        }
    }

    /// Checks `script`, then (unless `dryRun`) applies it: one commit and one bundle per room, in one transaction.
    /// Bundles already written are removed again if a later room fails.
    public func apply(_ script: ApplyScript, dryRun: Bool, deliver: BundleDelivery) throws -> [AppliedRoom] {
        if !dryRun { try automaticPrune() }
        let me = try identity()
        if dryRun {
            return try read { db in
                try plan(db, script, me: me).map { p in
                    AppliedRoom(name: p.name, roomID: p.existing?.id, epoch: p.existing.map { $0.state.epoch + (p.operations.isEmpty ? 0 : 1) } ?? 0,
                                operations: p.existing == nil ? ["create"] + p.operations.map(\.verb) : p.operations.map(\.verb), bundle: nil)
                }
            }
        }
        var written: [String] = []
        func recording(_ output: BundleOutput) throws -> String {
            let path = try deliver(output)
            written.append(path)
            return path
        }
        do {
            return try write { db in
                try plan(db, script, me: me).map { p in
                    let result: CommitResult
                    if let room = p.existing {
                        result = p.operations.isEmpty
                            ? try rotate(db, room: room, me: me, deliver: recording)
                            : try commit(db, room: room, operations: p.operations, me: me, deliver: recording)
                    } else {
                        result = try createRoom(db, name: p.name, operations: p.operations, me: me, deliver: recording)
                    }
                    let ops = p.existing == nil ? ["create"] + p.operations.map(\.verb) : p.operations.map(\.verb)
                    return AppliedRoom(name: p.name, roomID: result.room.id, epoch: result.room.state.epoch, operations: ops,
                                       bundle: result.bundlePath)
                }
            }
        } catch {
            for path in written { unlink(path) }
            throw error
        }
    }
}
