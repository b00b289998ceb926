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
}

/// Making commits and rotations: the use cases an admin or member runs on their own keyring.
extension Keyring {
    /// Creates a room with the given contacts as members and writes its genesis bundle.
    /// Unless `allowSameHandle`, refuses members whose handle another member (or you) already has.
    public func createRoom(name: String, members: [String], allowSameHandle: Bool = false,
                           deliver: BundleDelivery) throws -> CommitResult {
        try automaticPrune()
        let me = try identity()
        return try write { db in
            let ops = try members.map { Operation.add(try sealableContact(db, $0).card) }
            if !allowSameHandle { try refuseSameHandles(creator: me.card, adding: ops, room: name) }
            return try createRoom(db, name: name, operations: ops, me: me, deliver: deliver)
        }
    }

    /// Creates a room in the caller's transaction: `create` followed by `operations` in one genesis commit.
    func createRoom(_ db: Database, name: String, operations: [Operation], me: borrowing LocalIdentity,
                    deliver: BundleDelivery) throws -> CommitResult {
        let (commit, state) = try genesisCommit(db, name: name, operations: operations, me: me)
        let room = StoredRoom(state: state, forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: 0, confirmedEpoch: nil)
        return try finishCommit(db, room: room, commits: [commit], me: me, rotate: true, deliver: deliver)
    }

    /// Checks that `name` is a valid room name not yet used in this keyring.
    func checkNewRoomName(_ db: Database, _ name: String) throws {
        try Handle.validate(name, what: "room name")
        if (try? findRoom(db, name)) != nil { throw RoomError.nameTaken(name) }
    }

    /// Builds and checks a genesis commit without storing anything.
    func genesisCommit(_ db: Database, name: String, operations: [Operation], me: borrowing LocalIdentity) throws -> (Commit, RoomState) {
        try checkNewRoomName(db, name)
        let ops = [Operation.create(name: name, creator: me.card)] + operations
        let roster = try RoomState.apply(ops, to: Roster(), author: me.id, genesis: true)
        let commit = Commit(roomID: RoomID.random(using: random), epoch: 0, previousHead: Commit.genesisHead, signer: me.signing,
                            time: now(), operations: ops, rosterHash: roster.hash)
        return (commit, try RoomState.genesis(commit))
    }

    /// Commits membership changes to a room as one commit and one bundle.
    /// Unless `allowSameHandle`, refuses to add a contact whose handle a member (or another added contact) already has.
    public func change(room nameOrID: String, _ changes: [MembershipChange], allowSameHandle: Bool = false,
                       deliver: BundleDelivery) throws -> CommitResult {
        try automaticPrune()
        let me = try identity()
        return try write { db in
            let room = try distributableRoom(db, nameOrID, me: me.id)
            let ops = try changes.flatMap { try operations(db, for: $0, roster: room.state.roster, room: room.name) }
            if !allowSameHandle { try refuseSameHandles(room.state.roster, adding: ops, room: room.name) }
            return try commit(db, room: room, operations: ops, me: me, deliver: deliver)
        }
    }

    /// Throws `RoomError.sameHandle` for the first `add` in `ops` whose handle is already on `roster` or added before it.
    func refuseSameHandles(_ roster: Roster, adding ops: [Operation], room: String) throws {
        if let c = roster.handleCollisions(adding: ops.addedCards).first { throw RoomError.sameHandle(room: room, c) }
    }

    /// The same check for a new room, whose roster holds only its creator.
    func refuseSameHandles(creator: IdentityCard, adding ops: [Operation], room: String) throws {
        let added = ops.addedCards.map { (id: $0.id, handle: $0.handle) }
        if let c = MemberNames.collisions(members: [(creator.id, creator.handle)], adding: added).first {
            throw RoomError.sameHandle(room: room, c)
        }
    }

    /// The operations a change stands for, with contacts and members resolved in this keyring.
    /// `roster` is the roster the members are looked up in; `room` names the room in errors.
    func operations(_ db: Database, for change: MembershipChange, roster: Roster, room: String) throws -> [Operation] {
        switch change {
        case let .add(names): try names.map { .add(try sealableContact(db, $0).card) }
        case let .remove(members): try members.map { .remove(try resolveMember(db, $0, roster: roster, room: room)) }
        case let .promote(member): [.promote(try resolveMember(db, member, roster: roster, room: room))]
        case let .demote(member): [.demote(try resolveMember(db, member, roster: roster, room: room))]
        case .leave: [.leave]
        }
    }

    /// The roster after `ops` by this member, checking authority and every operation rule.
    func checkedRoster(_ roster: Roster, _ ops: [Operation], me: IdentityID) throws -> Roster {
        if let author = roster[me], !author.admin { throw LogError.notAdmin(me) }
        return try RoomState.apply(ops, to: roster, author: me, genesis: false)
    }

    /// Commits `ops` to `room` in the caller's transaction and delivers the bundle.
    func commit(_ db: Database, room: StoredRoom, operations ops: [Operation], me: borrowing LocalIdentity,
                deliver: BundleDelivery) throws -> CommitResult {
        let roster = try checkedRoster(room.state.roster, ops, me: me.id)
        let commit = Commit(roomID: room.id, epoch: room.state.epoch + 1, previousHead: room.state.head, signer: me.signing,
                            time: now(), operations: ops, rosterHash: roster.hash)
        var next = room
        next.state = room.state.advanced(by: commit, roster: roster)
        next.ownGeneration = 0
        next.rotationDue = false
        let addsMembers = ops.contains { if case .add = $0 { true } else { false } }
        let commits = addsMembers ? try storedLog(db, room.id, through: room.state.epoch) + [commit] : [commit]
        return try finishCommit(db, room: next, commits: commits, me: me, rotate: ops != [.leave], deliver: deliver)
    }

    /// Makes a new sender-key generation in the current epoch and distributes it.
    public func rotate(room nameOrID: String, deliver: BundleDelivery) throws -> CommitResult {
        try automaticPrune()
        let me = try identity()
        return try write { db in
            try rotate(db, room: try distributableRoom(db, nameOrID, me: me.id), me: me, deliver: deliver)
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
            try storeCommit(db, last, roster: room.state.roster)
        }
        let output = try makeBundle(db, room: room, commits: commits, me: me, withKey: rotate)
        let path = try enqueue(db, output, kind: commits.isEmpty ? "sender-key" : "commit", deliver: deliver)
        if let last = commits.last, last.epoch == room.state.epoch {
            try audit(db, .commitMade, "\(room.name) epoch \(last.epoch): " + last.operations.map(\.verb).joined(separator: ", "))
        } else {
            try audit(db, .rotation, "\(room.name) epoch \(room.state.epoch) generation \(room.ownGeneration)")
        }
        try audit(db, .bundleMade, "\(room.name) epoch \(room.state.epoch) sealed to \(output.recipientCount): \(path)")
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
        let recipients = try stanzaRecipients(db, roster: roster, me: me.card)
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
        let bytes = try BundleSealer.seal(roomID: room.id, epoch: room.state.epoch, signer: me.signing, recipients: recipients,
                                          content: content, random: random)
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

    /// A contact that keys may be sealed to: it exists and its key change, if any, was accepted or verified.
    func sealableContact(_ db: Database, _ name: String) throws -> Contact {
        guard let contact = try fetchContact(db, tag: nameTag(name)) else { throw ContactError.notFound(name: name) }
        if contact.keyChanged { throw RoomError.keyChangedContact(name: name) }
        return contact
    }

    /// Resolves a member argument: a contact name, a member's handle, or a 32-hex-digit identity id.
    func resolveMember(_ db: Database, _ token: String, roster: Roster, room: String) throws -> IdentityID {
        if token.count == 32, let bytes = try? Hex.decode(token, what: "id"), let id = try? IdentityID(bytes: bytes), roster[id] != nil {
            return id
        }
        if let contact = try fetchContact(db, tag: nameTag(token)) {
            if roster[contact.id] != nil { return contact.id }
            let old = try keyHistory(db, named: token).map(\.card.id).filter { roster[$0] != nil }
            if let id = old.last { return id }
        }
        let byHandle = roster.sorted.filter { $0.card.handle == token }
        if byHandle.count == 1 { return byHandle[0].id }
        throw RoomError.contactNotMember(name: token, room: room)
    }
}

extension [Operation] {
    /// The cards of the `add` operations, in order.
    var addedCards: [IdentityCard] { compactMap { if case let .add(card) = $0 { card } else { nil } } }
}
