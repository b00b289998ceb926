import Foundation
import GRDB
import RoomKeyCore

/// A membership change named the way a user names things: contacts and members by name, handle or id.
public enum MembershipChange: Sendable, Equatable {
    /// Add these contacts.
    case add([String])
    /// Remove these members.
    case remove([String])
    /// Make this member an admin.
    case promote(String)
    /// Make this admin a plain member.
    case demote(String)
    /// Leave the room (an admin's own `leave` commit; members use `Keyring.leave`).
    case leave
    /// Add these contacts, skipping any already in the room (under its current or an older identity key).
    case addIfMissing([String])
    /// Remove these members, skipping any that is not a member.
    case removeIfPresent([String])
    /// Swap the older identity of this contact that is still a member for its current card (the role is kept).
    case replace(String)
    /// Make the members exactly these contacts (names or ids; you always stay) and, with `admins`, the admins exactly
    /// those (they are made members too; you keep your role).
    case members([String], admins: [String]?)
}

/// What `changeIfNeeded` did, or (in a dry run) would do.
public struct PlannedChange: Sendable {
    /// The room before the change (`commit.room` is the room after it).
    public let room: StoredRoom
    /// The operations of the commit; empty when the room is already as asked.
    public let operations: [RoomKeyCore.Operation]
    /// The commit made; nil in a dry run or when nothing needed changing.
    public let commit: CommitResult?
}

/// Making commits and rotations: the use cases an admin or member runs on their own keyring.
extension Keyring {
    /// Creates a room with the given contacts as members and writes its genesis bundle.
    /// Unless `allowSameHandle`, refuses members whose handle another member (or you) already has. With `requirePQ`, the
    /// room is made with `--require-pq` on, refusing (naming them) members on version 1 cards; nothing is stored then.
    public func createRoom(name: String, members: [String], allowSameHandle: Bool = false, requirePQ: Bool = false,
                           deliver: BundleDelivery) throws -> CommitResult {
        // A bad name is refused before anything, the automatic prune included, touches the keyring.
        try Handle.validateNew(name, what: "room name")
        try automaticPrune()
        let me = try identity()
        return try write { db in
            // Every member is a contact read here: the summary and the stanzas reuse these reads instead of one more each.
            contactsSeen = [:]
            contactsSeen?.reserveCapacity(members.count)
            defer { contactsSeen = nil }
            let ops = try sealableContacts(db, members).map { Operation.add($0.card) }
            // Every member's stanza but a post-quantum one is a sealed box.
            sealAhead(pairs: ops.addedCards.lazy.filter { !$0.isPostQuantum }.count)
            defer { dropSealAhead() }
            if !allowSameHandle { try refuseSameHandles(creator: me.card, adding: ops, room: name) }
            return try createRoom(db, name: name, operations: ops, me: me, requirePQ: requirePQ, deliver: deliver)
        }
    }

    /// Creates a room in the caller's transaction: `create` followed by `operations` in one genesis commit. With
    /// `requirePQ` the room requires post-quantum stanzas from its genesis bundle on (see `refuseClassicalMembers`).
    func createRoom(_ db: Database, name: String, operations: [Operation], me: borrowing LocalIdentity, requirePQ: Bool = false,
                    deliver: BundleDelivery) throws -> CommitResult {
        let (commit, state) = try genesisCommit(db, name: name, operations: operations, me: me)
        var room = StoredRoom(state: state, forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: 0, confirmedEpoch: nil)
        room.requirePQ = requirePQ
        return try finishCommit(db, room: room, commits: [commit], me: me, rotate: true, deliver: deliver)
    }

    /// Checks that `name` is a valid room name not yet used in this keyring: no room (one, or several received under
    /// one name) is named so.
    func checkNewRoomName(_ db: Database, _ name: String) throws {
        try Handle.validateNew(name, what: "room name")
        do {
            _ = try findRoomID(db, name)
        } catch let error as RoomError {
            if case .notFound = error { return }
            if case .ambiguous = error { throw RoomError.nameTaken(name) }
            throw error
        }
        throw RoomError.nameTaken(name)
    }

    /// Builds and checks a genesis commit without storing anything.
    func genesisCommit(_ db: Database, name: String, operations: [Operation], me: borrowing LocalIdentity) throws -> (Commit, RoomState) {
        try checkNewRoomName(db, name)
        let ops = [Operation.create(name: name, creator: me.card)] + operations
        // Cards read from contact rows were checked when they were stored; each other card is checked once, here.
        let roster = try RoomState.apply(ops, to: Roster(), author: me.id, genesis: true, verified: storedContactCard)
        // A genesis roster is stored whole: its storage form is built once and hashed from there.
        _ = roster.encoded
        let commit = Commit(roomID: RoomID.random(using: random), epoch: 0, previousHead: Commit.genesisHead, signer: me.signing,
                            time: now(), operations: ops, rosterHash: roster.hash)
        return (commit, RoomState.ownGenesis(commit, name: name, roster: roster))
    }

    /// Commits membership changes to a room as one commit and one bundle.
    /// Unless `allowSameHandle`, refuses to add a contact whose handle a member (or another added contact) already has.
    public func change(room nameOrID: String, _ changes: [MembershipChange], allowSameHandle: Bool = false,
                       deliver: BundleDelivery) throws -> CommitResult {
        try read { db in sealAhead(db, room: nameOrID) }
        defer { dropSealAhead() }
        try automaticPrune()
        let me = try identity()
        return try write { db in
            let room = try distributableRoom(db, nameOrID, me: me.id)
            let ops = try changes.flatMap { try operations(db, for: $0, roster: room.state.roster, room: room.commandName, me: me.id) }
            if !allowSameHandle { try refuseSameHandles(room.state.roster, adding: ops, room: room.commandName) }
            return try commit(db, room: room, operations: ops, me: me, deliver: deliver)
        }
    }

    /// Like `change`, but a change that asks for nothing new (every `--if-missing` contact present, every
    /// `--if-present` member gone, the roster already as `members` asks) commits nothing and returns no result.
    /// With `dryRun`, nothing is committed either way; the result holds the operations that would be.
    public func changeIfNeeded(room nameOrID: String, _ changes: [MembershipChange], allowSameHandle: Bool = false, dryRun: Bool = false,
                               deliver: BundleDelivery) throws -> PlannedChange {
        if !dryRun { try automaticPrune() }
        let me = try identity()
        let myID = me.id
        let plan = { (db: Database) throws -> (StoredRoom, [Operation]) in
            let room = try self.distributableRoom(db, nameOrID, me: myID)
            let ops = try changes.flatMap { try self.operations(db, for: $0, roster: room.state.roster, room: room.commandName, me: myID) }
            if !allowSameHandle { try self.refuseSameHandles(room.state.roster, adding: ops, room: room.commandName) }
            if !ops.isEmpty { _ = try self.checkedRoster(room.state.roster, ops, me: myID) }
            return (room, ops)
        }
        if dryRun {
            return try read { db in
                let (room, ops) = try plan(db)
                return PlannedChange(room: room, operations: ops, commit: nil)
            }
        }
        return try write { db in
            sealAhead(db, room: nameOrID)
            defer { dropSealAhead() }
            let (room, ops) = try plan(db)
            if ops.isEmpty { return PlannedChange(room: room, operations: [], commit: nil) }
            let result = try commit(db, room: room, operations: ops, me: me, deliver: deliver)
            return PlannedChange(room: room, operations: ops, commit: result)
        }
    }

    /// Commits `ops` to `room` in the caller's transaction and delivers the bundle. In a room with a git remote the
    /// change is staged instead (the remote orders the epochs; `sync` publishes it): every membership commit comes here.
    func commit(_ db: Database, room: StoredRoom, operations ops: [Operation], me: borrowing LocalIdentity,
                deliver: BundleDelivery) throws -> CommitResult {
        if let remote = try stageIfRemote(db, room: room, operations: ops, me: me.id) {
            return CommitResult(room: room, bundlePath: "", recipientCount: 0, stagedFor: remote, operationCount: ops.count)
        }
        let roster = try checkedRoster(room.state.roster, ops, me: me.id)
        let commit = Commit(roomID: room.id, epoch: room.state.epoch + 1, previousHead: room.state.head, signer: me.signing,
                            time: now(), operations: ops, rosterHash: roster.hash)
        var next = room
        next.state = room.state.advanced(by: commit, roster: roster)
        next.ownGeneration = 0
        next.rotationDue = false
        let addsMembers = ops.contains { if case .add = $0 { true } else { false } }
        let commits = addsMembers ? try storedLog(db, room.id, through: room.state.epoch) + [commit] : [commit]
        var result = try finishCommit(db, room: next, commits: commits, me: me, rotate: ops != [.leave], deliver: deliver)
        result.operationCount = ops.count
        return result
    }

    /// Makes a new sender-key generation in the current epoch and distributes it.
    public func rotate(room nameOrID: String, deliver: BundleDelivery) throws -> CommitResult {
        try automaticPrune()
        let me = try identity()
        return try write { db in
            sealAhead(db, room: nameOrID, staging: false)
            defer { dropSealAhead() }
            return try rotate(db, room: try distributableRoom(db, nameOrID, me: me.id), me: me, deliver: deliver)
        }
    }

    /// Rotates in the caller's transaction.
    func rotate(_ db: Database, room: StoredRoom, me: borrowing LocalIdentity, deliver: BundleDelivery) throws -> CommitResult {
        var next = room
        next.ownGeneration += 1
        next.rotationDue = false
        return try finishCommit(db, room: next, commits: [], me: me, rotate: true, deliver: deliver)
    }

    /// Stores the new state and commits, makes this member's sender key, seals the bundle and delivers it.
    func finishCommit(_ db: Database, room: StoredRoom, commits: [Commit], me: borrowing LocalIdentity, rotate: Bool,
                      deliver: BundleDelivery) throws -> CommitResult {
        try saveRoom(db, room)
        if let last = commits.last, last.epoch == room.state.epoch {
            // A genesis made here names a fresh random room id: none of its members has a stored tenure yet.
            try storeCommit(db, last, roster: room.state.roster, newRoom: last.epoch == 0)
        }
        let output = try makeBundle(db, room: room, commits: commits, me: me, withKey: rotate)
        // The contacts a new room read have served its summary and its stanzas; the bundle's copies, the largest buffers
        // of the command, come next (the outbox's sealed copy and SQLite's own), so the cache is let go first.
        contactsSeen = nil
        let path = try enqueue(db, output, kind: commits.isEmpty ? OutboxHistory.senderKeyKind : "commit", generation: rotate ? room.ownGeneration : nil,
                               deliver: deliver)
        if let last = commits.last, last.epoch == room.state.epoch {
            try audit(db, .commitMade, "\(Self.auditRoom(room.name, room.id)) epoch \(last.epoch): " + last.operations.map(\.verb).joined(separator: ", "))
        } else {
            try audit(db, .rotation, "\(Self.auditRoom(room.name, room.id)) epoch \(room.state.epoch) generation \(room.ownGeneration)")
        }
        try audit(db, .bundleMade, "\(Self.auditRoom(room.name, room.id)) epoch \(room.state.epoch) sealed to \(output.recipientCount): \(path)")
        try recordBundle(db, room: room.id, epoch: room.state.epoch, sender: me.id, made: true, commits: commits.count)
        return CommitResult(room: room, bundlePath: path, recipientCount: output.recipientCount)
    }

    /// Seals a bundle from this member to the room's roster, optionally carrying a fresh own sender key.
    /// With `ownKey` (and not `withKey`), carries this member's existing key of that generation at its current iteration.
    func makeBundle(_ db: Database, room: StoredRoom, commits: [Commit], me: borrowing LocalIdentity, withKey: Bool,
                    ownKey: UInt32? = nil) throws -> BundleOutput {
        try refuseKeyChangedMembers(db, roster: room.state.roster)
        let roster = room.state.roster
        try refuseClassicalMembers(db, room: room, me: me.card, commits: commits)
        let recipients = try stanzaRecipients(db, roster: roster, me: me.card, room: room.id)
        let content: SecretBytes
        if withKey {
            let own = try OwnSenderKey.generate(roomID: room.id, owner: me.id, epoch: room.state.epoch,
                                                generation: room.ownGeneration, random: random)
            try storeSenderKey(db, own.shared, signingSecret: own.signing.exportSecretKey())
            content = BundleContent.encode(senderKey: own.shared, commits: commits)
        } else if let generation = ownKey,
                  let key = try ownSenderKey(db, room.id, me: me.id, epoch: room.state.epoch, generation: generation) {
            content = BundleContent.encode(senderKey: SenderKey(info: key.info, chainKey: key.chain.chainKey.duplicate()), commits: commits)
        } else {
            content = BundleContent.encode(commits: commits)
        }
        // A large seal is coming (key pairs were made for it): what this transaction wrote so far goes to the log now.
        if poolWaiting { try writePagesAhead(db) }
        let bytes = try BundleSealer.seal(roomID: room.id, epoch: room.state.epoch, signer: me.signing, recipients: recipients,
                                          content: content, random: random, pool: ephemeralPool.take())
        return BundleOutput(roomID: room.id, roomName: room.name, epoch: room.state.epoch, recipientCount: recipients.count, bytes: bytes)
    }

    /// A room this member may distribute in: not forked, and still a member.
    func distributableRoom(_ db: Database, _ nameOrID: String, me: IdentityID) throws -> StoredRoom {
        let room = try findRoom(db, nameOrID)
        if room.left { throw RoomError.left(room: room.name) }
        if room.forked { throw RoomError.forked(room: room.name, heads: room.forkHeads) }
        guard room.state.roster[me] != nil else { throw RoomError.notMember(room: room.name) }
        return room
    }
}
