/// Re-plans membership changes staged for a room with a git remote against the roster they will now apply to
/// (docs/PROTOCOL.md §9.4): what another admin already did is dropped and reported, what is still to do stays.
public enum StagedRebase {
    /// One staged change (an admin's command) as the operations it stood for when it was made, with what it is about.
    public struct Intent: Equatable, Sendable {
        /// The operations, in order.
        public let operations: [Operation]
        /// The identities the change is about (every key of each contact it names); nil for a change staged before
        /// subjects were recorded, which is planned operation by operation.
        public let subjects: Set<IdentityID>?
        /// The identities other admins' commits named since the change was staged (see `changed(since:me:)`).
        public let changed: Set<IdentityID>
        /// Why the change can no longer be made, found outside the roster (a contact's key changed, a leave request no
        /// longer holds, the room's history changed); nil when nothing was found.
        public let veto: String?
        /// The admin insisted on adding a handle the roster already has.
        public let allowSameHandle: Bool

        /// An intent from its operations (planned operation by operation).
        public init(_ operations: [Operation]) {
            self.init(operations, subjects: nil)
        }

        /// An intent that is planned whole: dropped when another admin changed one of its `subjects` since it was staged.
        public init(_ operations: [Operation], subjects: Set<IdentityID>?, changed: Set<IdentityID> = [], veto: String? = nil,
                    allowSameHandle: Bool = false) {
            self.operations = operations
            self.subjects = subjects
            self.changed = changed
            self.veto = veto
            self.allowSameHandle = allowSameHandle
        }
    }

    /// An operation dropped, with why.
    public struct Dropped: Equatable, Sendable {
        /// The index of its intent.
        public let intent: Int
        /// The operation.
        public let operation: Operation
        /// Why it is not done (lowercase, one line).
        public let reason: String
        /// True when the operation is already true on the roster (another admin did it): an add of a member, a removal
        /// of a non-member, and so on.
        public let done: Bool
    }

    /// The next commit's operations and what the intents became.
    public struct Plan: Equatable, Sendable {
        /// The operations of the next commit (empty: nothing left to commit now).
        public let operations: [Operation]
        /// The intents the commit covers, each with the operations it keeps (possibly none: fully dropped).
        public let covered: [(index: Int, kept: [Operation])]
        /// The operations dropped.
        public let dropped: [Dropped]

        public static func == (a: Plan, b: Plan) -> Bool {
            a.operations == b.operations && a.dropped == b.dropped && a.covered.map(\.index) == b.covered.map(\.index)
                && a.covered.map(\.kept) == b.covered.map(\.kept)
        }
    }

    /// The identities that `commits` (author, operations), made since an intent was staged, named, leaving out
    /// `me`'s own commits (they carried this keyring's earlier intents, which later ones were checked against).
    public static func changed(since commits: [(author: IdentityID, operations: [Operation])], me: IdentityID) -> Set<IdentityID> {
        Set(commits.filter { $0.author != me }.flatMap { c in c.operations.compactMap(\.subject) + (c.operations.contains(.leave) ? [c.author] : []) })
    }

    /// Plans the next commit by `author` from `intents` (oldest first) on `roster`.
    ///
    /// An intent with subjects is planned whole: it is dropped, every operation reported, when it has a veto, when
    /// another admin's commit named one of its subjects since it was staged, when one of its operations is already true
    /// (an add of a member, a removal of a non-member, a promotion of an admin, a demotion of a plain member), when it
    /// would give two members one handle (unless the admin insisted), or when the log rules refuse it. An intent
    /// without subjects (staged by an older version) is planned operation by operation: what is already true is dropped,
    /// except that a key swap (adds and removals) whose old key is gone is dropped whole, so a removed key's contact is
    /// never added back. A `leave` goes alone into its own commit, after what is before it. When the author is no
    /// longer an admin, everything is dropped. A card `verified` returns true for is taken as checked (a keyring's own
    /// staged intents, whose cards it checked when it staged them), as `RoomState.apply` takes it.
    public static func plan(_ intents: [Intent], roster start: Roster, author: IdentityID,
                            verified: (IdentityCard) -> Bool = { _ in false }) -> Plan {
        guard let me = start[author], me.admin else {
            let why = start[author] == nil ? "you are no longer a member of the room" : "you are no longer an admin of the room"
            let dropped = intents.enumerated().flatMap { i, intent in
                intent.operations.map { Dropped(intent: i, operation: $0, reason: why, done: isDone($0, roster: start, author: author)) }
            }
            return Plan(operations: [], covered: intents.indices.map { ($0, []) }, dropped: dropped)
        }
        var roster = start
        // Changed in place, and indexed by handle at the first intent that needs it, so each intent costs what it
        // changes, not a pass over the roster.
        var handles: HandleIndex?
        var operations: [Operation] = []
        var covered: [(index: Int, kept: [Operation])] = []
        var dropped: [Dropped] = []
        func dropAll(_ index: Int, _ ops: [Operation], _ why: String) {
            dropped += ops.map { Dropped(intent: index, operation: $0, reason: why, done: isDone($0, roster: roster, author: author)) }
            covered.append((index, []))
        }
        for (index, intent) in intents.enumerated() {
            if let veto = intent.veto {
                dropAll(index, intent.operations, veto)
                continue
            }
            if intent.operations == [.leave] {
                if operations.isEmpty {
                    if (try? RoomState.apply([.leave], to: roster, author: author, genesis: false, verified: verified)) != nil {
                        return Plan(operations: [.leave], covered: covered + [(index, [.leave])], dropped: dropped)
                    }
                    dropAll(index, [.leave], "another admin must remain")
                    continue
                }
                break
            }
            let kept: [Operation]
            switch screen(intent, roster: &roster, handles: &handles, author: author, verified: verified) {
            case let .dropWhole(why):
                dropAll(index, intent.operations, why)
                continue
            case let .keep(ops, done):
                kept = ops
                dropped += done.map { Dropped(intent: index, operation: $0.0, reason: $0.1, done: isDone($0.0, roster: roster, author: author)) }
            }
            if !kept.isEmpty {
                do {
                    try RoomState.apply(kept, onto: &roster, author: author, genesis: false, verified: verified)
                    handles?.record(kept, author: author)
                } catch {
                    dropAll(index, kept, error.message)
                    continue
                }
            }
            operations += kept
            covered.append((index, kept))
        }
        return Plan(operations: operations, covered: covered, dropped: dropped)
    }

    /// What `screen` found for one intent.
    private enum Screened {
        /// Drop the whole intent, for this reason.
        case dropWhole(String)
        /// Keep these operations; the others (with why) are already true.
        case keep([Operation], done: [(Operation, String)])
    }

    /// What of `intent` is still to do on `roster` (whose handles `handles` indexes, once built here), before the log
    /// rules are applied; `roster` is left as it was.
    private static func screen(_ intent: Intent, roster: inout Roster, handles: inout HandleIndex?, author: IdentityID,
                               verified: (IdentityCard) -> Bool) -> Screened {
        if let subjects = intent.subjects {
            if let hit = subjects.intersection(intent.changed).sorted().first {
                let who = roster[hit].map { "\($0.card.handle) (\(hit))" } ?? "\(hit)"
                return .dropWhole("another admin changed \(who) in the room since this change was staged")
            }
            if let why = screened(intent.operations, roster: &roster, author: author, verified: verified).done.first?.1 {
                return .dropWhole(why)
            }
            if !intent.allowSameHandle && !intent.operations.addedCards.isEmpty {
                let index = handles ?? HandleIndex(roster)
                handles = index
                if let c = index.collisions(of: intent.operations).first {
                    return .dropWhole("another member now has the handle \"\(c.handle)\" (\(c.existing))")
                }
            }
            return .keep(intent.operations, done: [])
        }
        let adds = intent.operations.contains { if case .add = $0 { true } else { false } }
        for case let .remove(id) in intent.operations where adds && roster[id] == nil {
            return .dropWhole("the old key \(id) is no longer a member: the key swap is not made")
        }
        let (kept, done) = screened(intent.operations, roster: &roster, author: author, verified: verified)
        return .keep(kept, done: done)
    }

    /// `ops` split into those still to do and those already true (with why), each checked on the roster the operations
    /// before it leave (so a promotion of a member the same intent adds is still to do). Each is applied where it is
    /// and taken back before returning, so `roster` is left as it was at the cost of the intent, not of the roster.
    private static func screened(_ ops: [Operation], roster: inout Roster, author: IdentityID,
                                 verified: (IdentityCard) -> Bool) -> (kept: [Operation], done: [(Operation, String)]) {
        var kept: [Operation] = []
        var done: [(Operation, String)] = []
        var applied: [RosterUndo] = []
        for op in ops {
            if let why = alreadyTrue(op, roster: roster, author: author) {
                done.append((op, why))
            } else {
                kept.append(op)
                if let undo = try? RoomState.apply([op], onto: &roster, author: author, genesis: false, verified: verified) {
                    applied.append(undo)
                }
            }
        }
        for undo in applied.reversed() { undo.revert(&roster) }
        return (kept, done)
    }

    /// True when `op` is already the case on `roster`: a member to add, a non-member to remove, an admin to promote, a
    /// plain member to demote.
    static func isDone(_ op: Operation, roster: Roster, author: IdentityID) -> Bool {
        switch op {
        case let .add(card): roster[card.id] != nil
        case let .remove(id): roster[id] == nil
        case let .promote(id): roster[id]?.admin == true
        case let .demote(id): roster[id]?.admin == false
        case .create: false
        case .leave: roster[author] == nil
        }
    }

    /// Why `op` needs no doing on `roster`, or nil when it still changes something.
    static func alreadyTrue(_ op: Operation, roster: Roster, author: IdentityID) -> String? {
        switch op {
        case let .add(card): roster[card.id] == nil ? nil : "\(card.handle) (\(card.id)) is already a member"
        case let .remove(id): roster[id] == nil ? "\(id) is not a member" : nil
        case let .promote(id):
            if let m = roster[id] { m.admin ? "\(m.card.handle) (\(id)) is already an admin" : nil } else { "\(id) is not a member" }
        case let .demote(id):
            if let m = roster[id] { m.admin ? nil : "\(m.card.handle) (\(id)) is not an admin" } else { "\(id) is not a member" }
        case .create: "a staged change cannot create a room"
        case .leave: roster[author] == nil ? "you are not a member" : nil
        }
    }
}

/// What sync does with a staged commit after fetching (docs/PROTOCOL.md §9.3), decided from the room's state and what
/// the remote holds at the commit's path.
public enum StagedPublication {
    /// What the remote holds at `rooms/<room>/log/<epoch>.roomkey`.
    public enum RemoteFile: Equatable, Sendable {
        /// Nothing.
        case absent
        /// Exactly the bytes of the staged bundle.
        case ours
        /// Another file that fails a check every receiver makes the same way (`LockFileCheck` said replace).
        case invalid
        /// Another file that may be a valid commit for other receivers: why this keyring cannot apply it.
        case other(String)
    }

    /// The verdict.
    public enum Verdict: Equatable, Sendable {
        /// The push went through: apply the staged commit as the room's head.
        case published
        /// The path is free: push it.
        case push
        /// The remote holds an invalid file there (unparsable, forged, not from an admin, on another head): the epoch is
        /// still free, so replace the file.
        case replace
        /// The remote holds a commit there that this keyring cannot apply but must not overwrite: keep the change staged.
        case blocked(String)
        /// The room moved on (another admin's commit took the epoch): drop the built commit and re-plan the intents.
        case superseded
    }

    /// The verdict for a commit built for `epoch` on `previousHead`, the room being at `roomEpoch` with head `roomHead`
    /// after receiving what the remote holds.
    public static func decide(epoch: UInt64, previousHead: [UInt8], roomEpoch: UInt64, roomHead: [UInt8], remote: RemoteFile) -> Verdict {
        guard roomEpoch &+ 1 == epoch, roomHead == previousHead else { return .superseded }
        switch remote {
        case .ours: return .published
        case .absent: return .push
        case .invalid: return .replace
        case let .other(why): return .blocked(why)
        }
    }
}
