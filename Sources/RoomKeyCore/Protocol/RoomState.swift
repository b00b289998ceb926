/// A room as its accepted log defines it: pure values, no I/O.
public struct RoomState: Equatable, Sendable {
    /// The room.
    public let roomID: RoomID
    /// The name given at creation.
    public let name: String
    /// The last accepted epoch.
    public private(set) var epoch: UInt64
    /// The head hash after the last accepted commit.
    public private(set) var head: [UInt8]
    /// Members at `epoch`.
    public private(set) var roster: Roster
    /// The time of the commit at `epoch` (what the next commit's clock is checked against); nil when the state was
    /// rebuilt from a row written before it was kept.
    public private(set) var headTime: UInt64?

    /// Accepts a genesis commit (epoch 0, starting with `create`).
    public static func genesis(_ commit: Commit) throws(LogError) -> RoomState {
        guard commit.epoch == 0 else { throw .gap(expected: 0, found: commit.epoch) }
        guard commit.previousHead == Commit.genesisHead else { throw .brokenChain(epoch: 0) }
        guard case let .create(name, creator)? = commit.operations.first else {
            throw .invalidOperation("epoch 0 must start with create")
        }
        guard creator.id == commit.author else { throw .invalidOperation("the creator must author epoch 0") }
        do { try commit.verifySignature(creator.signingKey) } catch { throw .badSignature(epoch: 0) }
        let roster = try Self.apply(commit.operations, to: Roster(), author: commit.author, genesis: true)
        guard roster.hash == commit.rosterHash else { throw .rosterMismatch(epoch: 0) }
        return RoomState(at: commit, name: name, roster: roster)
    }

    /// Replays a whole log from its genesis commit, checking every rule.
    public static func replay(_ log: [Commit]) throws(LogError) -> RoomState {
        guard let first = log.first else { throw .invalidOperation("empty log") }
        var state = try genesis(first)
        for commit in log.dropFirst() { state = try state.applying(commit) }
        return state
    }

    /// Accepts the next commit and returns the new state; throws the first rule it breaks.
    public func applying(_ commit: Commit) throws(LogError) -> RoomState {
        guard commit.roomID == roomID else { throw .wrongRoom(expected: roomID, found: commit.roomID) }
        if commit.epoch <= epoch { throw .stale(epoch: commit.epoch, current: epoch) }
        if commit.epoch > epoch + 1 { throw .gap(expected: epoch + 1, found: commit.epoch) }
        guard commit.previousHead == head else { throw .brokenChain(epoch: commit.epoch) }
        guard let author = roster[commit.author] else { throw .authorNotMember(commit.author) }
        do { try commit.verifySignature(author.card.signingKey) } catch { throw .badSignature(epoch: commit.epoch) }
        guard author.admin else { throw .notAdmin(commit.author) }
        let next = try Self.apply(commit.operations, to: roster, author: commit.author, genesis: false)
        guard next.hash == commit.rosterHash else { throw .rosterMismatch(epoch: commit.epoch) }
        var state = self
        state.epoch = commit.epoch
        state.head = commit.head
        state.headTime = commit.time
        state.roster = next
        return state
    }

    /// The state after a commit this member made itself from `roster` (already computed and checked by `apply`);
    /// saves checking the author's own signature and hashing the roster a second time.
    public func advanced(by commit: Commit, roster: Roster) -> RoomState {
        var state = self
        state.epoch = commit.epoch
        state.head = commit.head
        state.headTime = commit.time
        state.roster = roster
        return state
    }

    /// The state a genesis commit this member made itself gives, from the roster `apply` already computed and checked
    /// (saves checking every card's signature and hashing the roster a second time).
    public static func ownGenesis(_ commit: Commit, name: String, roster: Roster) -> RoomState {
        RoomState(at: commit, name: name, roster: roster)
    }

    /// Applies operations to a roster, enforcing each operation's rule and that an admin remains. A card for which
    /// `verified` answers true is not checked again (its signature was checked before: a contact's card, say, checked when
    /// it was stored); every other card's self-signature is checked.
    public static func apply(_ ops: [Operation], to start: Roster, author: IdentityID, genesis: Bool,
                             verified: (IdentityCard) -> Bool = { _ in false }) throws(LogError) -> Roster {
        var roster = start
        try apply(ops, onto: &roster, author: author, genesis: genesis, verified: verified)
        return roster
    }

    /// The same rules as `apply(_:to:)`, changing `roster` where it is: the cost is that of `ops`, not of the roster (a
    /// script's line or a staged intent in a room of thousands). When a rule refuses, `roster` is put back as it was;
    /// otherwise the result takes the change back.
    @discardableResult
    public static func apply(_ ops: [Operation], onto roster: inout Roster, author: IdentityID, genesis: Bool,
                             verified: (IdentityCard) -> Bool = { _ in false }) throws(LogError) -> RosterUndo {
        var undo = RosterUndo()
        do {
            try applyEach(ops, onto: &roster, author: author, genesis: genesis, verified: verified, undo: &undo.effects)
        } catch {
            undo.revert(&roster)
            throw error
        }
        return undo
    }

    /// The rules of `apply`, recording in `undo` how to take back each change made.
    private static func applyEach(_ ops: [Operation], onto roster: inout Roster, author: IdentityID, genesis: Bool,
                                  verified: (IdentityCard) -> Bool, undo: inout [RosterEffect]) throws(LogError) {
        if ops.isEmpty { throw .invalidOperation("a commit needs at least one operation") }
        for (index, op) in ops.enumerated() {
            switch op {
            case let .create(_, creator):
                guard genesis, index == 0 else { throw .invalidOperation("create is only the first operation of epoch 0") }
                if !verified(creator) { try checkCard(creator) }
                let before = roster[creator.id]
                roster.insert(Member(card: creator, admin: true))
                undo.append(before.map { .insert($0.card, admin: $0.admin) } ?? .remove(creator.id))
            case let .add(card):
                guard roster[card.id] == nil else { throw .invalidOperation("\(card.handle) (\(card.id)) is already a member") }
                if !verified(card) { try checkCard(card) }
                roster.insert(Member(card: card, admin: false))
                undo.append(.remove(card.id))
            case let .remove(id):
                guard let m = roster[id] else { throw .invalidOperation("\(id) is not a member") }
                guard id != author else { throw .invalidOperation("an author removes itself with leave") }
                roster.remove(id)
                undo.append(.insert(m.card, admin: m.admin))
            case let .promote(id):
                guard let m = roster[id] else { throw .invalidOperation("\(id) is not a member") }
                guard !m.admin else { throw .invalidOperation("\(m.card.handle) is already an admin") }
                roster.setAdmin(id, true)
                undo.append(.setAdmin(id, false))
            case let .demote(id):
                guard let m = roster[id] else { throw .invalidOperation("\(id) is not a member") }
                guard m.admin else { throw .invalidOperation("\(m.card.handle) is not an admin") }
                roster.setAdmin(id, false)
                undo.append(.setAdmin(id, true))
            case .leave:
                guard ops.count == 1, !genesis else { throw .invalidOperation("leave must be the only operation of its commit") }
                guard let m = roster[author] else { throw .authorNotMember(author) }
                roster.remove(author)
                undo.append(.insert(m.card, admin: m.admin))
            }
        }
        if genesis, case .create = ops[0] {} else if genesis { throw .invalidOperation("epoch 0 must start with create") }
        if roster.adminCount == 0 { throw .noAdminLeft }
        if roster.count > Roster.maxMembers { throw .invalidOperation("a room holds at most \(Roster.maxMembers) members") }
    }

    private static func checkCard(_ card: IdentityCard) throws(LogError) {
        do { try card.verify() } catch {
            let reason = if case .unusablePublicKey = error { error.message } else { "it fails its signature" }
            throw .invalidOperation("the card of \(card.handle) (\(card.id)) is not valid: \(reason)")
        }
    }

    /// Rebuilds a state from stored fields (the keyring's room row); `headTime` is the time of the commit at `epoch`.
    public init(roomID: RoomID, name: String, epoch: UInt64, head: [UInt8], headTime: UInt64?, roster: Roster) {
        self.roomID = roomID
        self.name = name
        self.epoch = epoch
        self.head = head
        self.headTime = headTime
        self.roster = roster
    }

    /// The state an accepted `commit` left, given its roster: room, epoch, head and head time all come from the commit.
    public init(at commit: Commit, name: String, roster: Roster) {
        self.init(roomID: commit.roomID, name: name, epoch: commit.epoch, head: commit.head, headTime: commit.time, roster: roster)
    }

    /// The 60-digit room fingerprint at this epoch (see `RoomFingerprint`).
    public var fingerprint: String { RoomFingerprint.digits(roomID: roomID, epoch: epoch, head: head) }
}

/// The room fingerprint: members at one epoch compare it out of band, as MLS members compare the epoch authenticator.
///
/// `h = BLAKE2b-512("roomkey/room-fingerprint/v1" 00 || room id || u64 epoch || head)`; the first 60 bytes as twelve
/// 5-byte big-endian numbers, each `mod 100000` printed as 5 digits.
public enum RoomFingerprint {
    package static let domain = Array("roomkey/room-fingerprint/v1".utf8) + [0]

    /// The 60 digits, without spaces.
    public static func digits(roomID: RoomID, epoch: UInt64, head: [UInt8]) -> String {
        var w = ByteWriter()
        w.writeU64(epoch)
        let h = BLAKE2b.hash([domain, roomID.bytes, w.bytes, head], length: 64)
        return (0..<12).map { k in
            let n = h[(5 * k)..<(5 * k + 5)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 100_000
            let s = String(n)
            return String(repeating: "0", count: 5 - s.count) + s
        }.joined()
    }

    /// The digits in 12 groups of 5 separated by spaces.
    public static func grouped(_ digits: String) -> String {
        stride(from: 0, to: digits.count, by: 5).map { i in
            let start = digits.index(digits.startIndex, offsetBy: i)
            return String(digits[start..<digits.index(start, offsetBy: min(5, digits.count - i))])
        }.joined(separator: " ")
    }
}

/// How to take back what one `RoomState.apply(_:onto:)` changed in a roster.
public struct RosterUndo: Sendable {
    /// What puts each change back, in the order the changes were made.
    fileprivate var effects: [RosterEffect] = []

    /// Puts `roster` back as it was before the apply (when several applies are taken back, the last goes first).
    public func revert(_ roster: inout Roster) {
        for effect in effects.reversed() { roster.apply(effect) }
    }
}
