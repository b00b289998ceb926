import Foundation
import GRDB
import RoomKeyCore

/// What `stage` recorded: a membership change for a room with a git remote, applied only once its push succeeds.
public struct StagedChange: Sendable {
    /// The room as it is now (unchanged).
    public let room: StoredRoom
    /// The remote the room uses.
    public let remote: String
    /// The operations staged; empty when the room is already as asked.
    public let operations: [RoomKeyCore.Operation]
}

/// A commit that sync published and applied.
public struct PublishedCommit: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's name.
    public let name: String
    /// The epoch the commit started.
    public let epoch: UInt64
    /// Its operations.
    public let operations: [RoomKeyCore.Operation]
}

/// A staged operation that another admin's commit made unnecessary (or impossible), reported and forgotten.
public struct DroppedChange: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's name.
    public let name: String
    /// The operation.
    public let operation: RoomKeyCore.Operation
    /// Why.
    public let reason: String
    /// True when the operation is already true in the room (another admin made it): a removal of a non-member, an add
    /// of a member, and so on.
    public let done: Bool
}

/// Staging membership changes for rooms with a git remote, building the commit that carries them, and applying it
/// once the remote took it (docs/PROTOCOL.md §9.4). The room's state changes only in `applyFlight`.
extension Keyring {
    /// Stages `changes` for a room that has a remote; nil (nothing staged) when the room has none. The change is checked
    /// now, against the roster with every earlier staged change applied, so a refused request fails here.
    public func stage(room nameOrID: String, _ changes: [MembershipChange], allowSameHandle: Bool = false) throws -> StagedChange? {
        // Most rooms have no remote: a read says so, and the direct path that follows is not preceded by an empty write
        // (a write transaction, its digests and fsyncs, about 10 ms). A remote set in between is still seen: the direct
        // path checks again inside its own transaction (`stageIfRemote`).
        guard try read({ db in try remoteName(db, room: try findRoomID(db, nameOrID)) }) != nil else { return nil }
        try automaticPrune()
        let me = try identity()
        let myID = me.id
        return try write { db in
            // A room without a remote is left to the direct path, which reports its own errors.
            guard let remote = try remoteName(db, room: try findRoomID(db, nameOrID)) else { return nil }
            let room = try distributableRoom(db, nameOrID, me: myID)
            let roster = try stagedRoster(db, room: room, me: myID)
            let ops = try changes.flatMap { try operations(db, for: $0, roster: roster, room: room.commandName, me: myID) }
            if !allowSameHandle { try refuseSameHandles(roster, adding: ops, room: room.commandName) }
            guard !ops.isEmpty else { return StagedChange(room: room, remote: remote, operations: []) }
            let next = try checkedRoster(roster, ops, me: myID)
            try refuseClassicalMembers(db, room: room, roster: next, me: try identityCard(db), adding: ops)
            try stageIntent(db, try newIntent(db, room: room, operations: ops, allowSameHandle: allowSameHandle))
            try audit(db, .staged, "\(Self.auditRoom(room.name, room.id)): " + ops.map(\.verb).joined(separator: ", ") + " staged for remote \(remote)")
            return StagedChange(room: room, remote: remote, operations: ops)
        }
    }

    /// Stages `ops` for `room` in the caller's transaction when the room has a remote, checked against the roster with
    /// every earlier staged change applied; returns the remote, or nil (nothing staged) when the room has none.
    func stageIfRemote(_ db: Database, room: StoredRoom, operations ops: [RoomKeyCore.Operation], me: IdentityID) throws -> String? {
        guard let remote = try remoteName(db, room: room.id) else { return nil }
        let next = try checkedRoster(try stagedRoster(db, room: room, me: me), ops, me: me)
        try refuseClassicalMembers(db, room: room, roster: next, me: try identityCard(db), adding: ops)
        try stageIntent(db, try newIntent(db, room: room, operations: ops))
        try audit(db, .staged, "\(Self.auditRoom(room.name, room.id)): " + ops.map(\.verb).joined(separator: ", ") + " staged for remote \(remote)")
        return remote
    }

    /// `room`'s roster with every change staged for it applied (what a new change is checked against).
    func stagedRoster(_ db: Database, room: StoredRoom, me: IdentityID) throws -> Roster {
        let earlier = try plannerIntents(db, room: room, try stagedIntents(db, room: room.id).map(\.intent), me: me)
        // Every card here is in this keyring's own sealed staged rows, each checked when it was staged: checking them
        // again made each change staged cost three signature checks per change staged before it.
        let ownCards = Set(earlier.flatMap { $0.operations.addedCards.map(\.encoded) })
        let verified = { (card: IdentityCard) in ownCards.contains(card.encoded) }
        let planned = StagedRebase.plan(earlier, roster: room.state.roster, author: me, verified: verified)
        return planned.operations.isEmpty ? room.state.roster
            : try RoomState.apply(planned.operations, to: room.state.roster, author: me, genesis: false, verified: verified)
    }

    /// True when this keyring is an admin of the room.
    public func isAdmin(of nameOrID: String) throws -> Bool {
        let me = try identity().id
        return try room(nameOrID).state.roster[me]?.admin == true
    }

    /// Builds, in the caller's transaction, the commit that carries `room`'s staged intents re-planned on its roster,
    /// and records it as the room's flight. Rewrites each intent to what it keeps and returns what was dropped.
    func buildFlight(_ db: Database, room: StoredRoom, me: borrowing LocalIdentity) throws -> (FlightRecord?, [DroppedChange]) {
        let intents = try stagedIntents(db, room: room.id)
        // A forked room's roster is one branch of two: nothing is planned on it until it is resolved.
        guard !intents.isEmpty, !room.forked else { return (nil, []) }
        let plan = StagedRebase.plan(try plannerIntents(db, room: room, intents.map(\.intent), me: me.id), roster: room.state.roster, author: me.id)
        var carried: [String] = []
        for (index, kept) in plan.covered {
            let (tag, intent) = intents[index]
            if kept != intent.operations { try rewriteIntent(db, tag: tag, intent, operations: kept) }
            if !kept.isEmpty { carried.append(Hex.encode(tag)) }
        }
        let dropped = plan.dropped.map { DroppedChange(roomID: room.id, name: room.name, operation: $0.operation, reason: $0.reason, done: $0.done) }
        for d in dropped { try audit(db, .staged, "\(Self.auditRoom(room.name, room.id)): dropped \(d.operation.verb): \(d.reason)") }
        guard !plan.operations.isEmpty, !room.left else { return (nil, dropped) }
        let roster = try checkedRoster(room.state.roster, plan.operations, me: me.id)
        let commit = Commit(roomID: room.id, epoch: room.state.epoch + 1, previousHead: room.state.head, signer: me.signing,
                            time: now(), operations: plan.operations, rosterHash: roster.hash)
        var next = room
        next.state = room.state.advanced(by: commit, roster: roster)
        let adds = plan.operations.contains { if case .add = $0 { true } else { false } }
        let commits = adds ? try storedLog(db, room.id, through: room.state.epoch) + [commit] : [commit]
        let output = try makeBundle(db, room: next, commits: commits, me: me, withKey: false)
        let flight = FlightRecord(roomID: room.id.hex, epoch: commit.epoch, previousHead: Hex.encode(room.state.head),
                                  commit: Data(commit.encoded), bundle: Data(output.bytes), intents: carried)
        try saveFlight(db, flight, room: room.id)
        return (flight, dropped)
    }

    /// Applies a flight the remote took as `room`'s new head, in the caller's transaction: the commit and roster are
    /// stored, the bundle is recorded in the outbox (history, resend), the intents it carried are done, and this member
    /// owes its new sender key. Returns nil (and forgets the flight) when the room is no longer where it was built.
    func applyFlight(_ db: Database, _ flight: FlightRecord, me: borrowing LocalIdentity, deliver: BundleDelivery) throws -> PublishedCommit? {
        guard let id = try? RoomID(bytes: Hex.decode(flight.roomID, what: "room id")), let room = try loadRoom(db, id) else {
            throw KeyringError.integrityFailure(table: "staged_flight")
        }
        try deleteFlight(db, room: id)
        guard room.state.epoch + 1 == flight.epoch, Hex.encode(room.state.head) == flight.previousHead,
              let commit = try? Commit.parse(Array(flight.commit)), let bundle = try? Bundle.parse(Array(flight.bundle)) else { return nil }
        let roster = try checkedRoster(room.state.roster, commit.operations, me: me.id)
        var next = room
        next.state = room.state.advanced(by: commit, roster: roster)
        next.ownGeneration = 0
        next.rotationDue = roster[me.id] != nil && commit.operations != [.leave]
        try saveRoom(db, next)
        try storeCommit(db, commit, roster: roster)
        let path = try enqueue(db, BundleOutput(roomID: id, roomName: room.name, epoch: commit.epoch, recipientCount: bundle.recipients.count,
                                                bytes: Array(flight.bundle)), kind: "commit", deliver: deliver)
        try deleteIntents(db, tags: flight.intents.compactMap { try? Hex.decode($0, what: "intent") })
        try audit(db, .commitMade, "\(Self.auditRoom(room.name, room.id)) epoch \(commit.epoch): " + commit.operations.map(\.verb).joined(separator: ", ") + " (published)")
        try audit(db, .bundleMade, "\(Self.auditRoom(room.name, room.id)) epoch \(commit.epoch) sealed to \(bundle.recipients.count): \(path)")
        try recordBundle(db, room: id, epoch: commit.epoch, sender: me.id, made: true, commits: 1)
        return PublishedCommit(roomID: id, name: room.name, epoch: commit.epoch, operations: commit.operations)
    }

    /// Stages the removals that checked leave requests for one room ask for (an admin's sync), instead of committing
    /// them at once: the remote decides which admin's commit carries them. One transaction for the room's requests,
    /// reading its staged intents once; a member asking twice, or already staged for removal, is staged once. Returns
    /// the result to report for each request.
    func stageLeaveRequests(_ items: [LeaveItem],
                            me: borrowing LocalIdentity) throws -> [Int: ReceiveResult] {
        var results: [Int: ReceiveResult] = [:]
        var accepted: Set<Int> = []
        do {
            try write { db in
                let decisions = try LeaveAcceptance(view: ReceiverStore(keyring: self, db: db), receiver: me.id).decide(items.map(\.request))
                var room: StoredRoom? = nil
                var staged: Set<IdentityID> = []
                for (item, decision) in zip(items, decisions) {
                    guard case let .remove(member) = decision else {
                        results[item.index] = Self.settled(item, decision)
                        continue
                    }
                    accepted.insert(item.index)
                    if room == nil {
                        let loaded = try distributableRoom(db, item.request.roomID.hex, me: me.id)
                        staged = Set(try stagedIntents(db, room: loaded.id).flatMap { $0.intent.operations }.compactMap { op in
                            if case let .remove(id) = op { id } else { nil }
                        })
                        room = loaded
                    }
                    guard let room else { continue }
                    if staged.insert(member).inserted {
                        try stageIntent(db, try newIntent(db, room: room, operations: [.remove(member)], leaveRequest: item.request))
                        try audit(db, .staged, "\(Self.auditRoom(room.name, room.id)): remove \(member) at their request, staged")
                    }
                    results[item.index] = Self.leaveResult(item, .applied, nil, [])
                }
            }
        } catch let error as any RoomKeyError where error.category != .failure {
            // Nothing was stored: the removals are refused, and so is any request the transaction did not get to.
            for item in items where results[item.index] == nil || accepted.contains(item.index) {
                results[item.index] = Self.leaveResult(item, .rejected, error, [])
            }
        }
        return results
    }
}
