/// Re-plans membership changes staged for a room with a git remote against the roster they will now apply to
/// (docs/PROTOCOL.md §9.4): what another admin already did is dropped and reported, what is still to do stays.
public enum StagedRebase {
    /// One staged change (an admin's command) as the operations it stood for when it was made.
    public struct Intent: Equatable, Sendable {
        /// The operations, in order.
        public let operations: [Operation]
        /// An intent from its operations.
        public init(_ operations: [Operation]) { self.operations = operations }
    }

    /// An operation dropped, with why.
    public struct Dropped: Equatable, Sendable {
        /// The index of its intent.
        public let intent: Int
        /// The operation.
        public let operation: Operation
        /// Why it is not done (lowercase, one line).
        public let reason: String
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

    /// Plans the next commit by `author` from `intents` (oldest first) on `roster`. An operation that is already true
    /// (an add of a member, a removal of a non-member, a promotion of an admin, a demotion of a plain member) is dropped;
    /// an intent whose remaining operations the log rules refuse on the roster is dropped whole with the rule's reason;
    /// a `leave` goes alone into its own commit, after what is before it. When the author is no longer an admin,
    /// everything is dropped.
    public static func plan(_ intents: [Intent], roster start: Roster, author: IdentityID) -> Plan {
        guard let me = start[author], me.admin else {
            let why = start[author] == nil ? "you are no longer a member of the room" : "you are no longer an admin of the room"
            let dropped = intents.enumerated().flatMap { i, intent in intent.operations.map { Dropped(intent: i, operation: $0, reason: why) } }
            return Plan(operations: [], covered: intents.indices.map { ($0, []) }, dropped: dropped)
        }
        var roster = start
        var operations: [Operation] = []
        var covered: [(index: Int, kept: [Operation])] = []
        var dropped: [Dropped] = []
        for (index, intent) in intents.enumerated() {
            if intent.operations == [.leave] {
                if operations.isEmpty {
                    if (try? RoomState.apply([.leave], to: roster, author: author, genesis: false)) != nil {
                        return Plan(operations: [.leave], covered: covered + [(index, [.leave])], dropped: dropped)
                    }
                    dropped.append(Dropped(intent: index, operation: .leave, reason: "another admin must remain"))
                    covered.append((index, []))
                    continue
                }
                break
            }
            var kept: [Operation] = []
            for op in intent.operations {
                if let why = alreadyTrue(op, roster: roster, author: author) {
                    dropped.append(Dropped(intent: index, operation: op, reason: why))
                } else {
                    kept.append(op)
                }
            }
            if !kept.isEmpty {
                do {
                    roster = try RoomState.apply(kept, to: roster, author: author, genesis: false)
                } catch {
                    dropped += kept.map { Dropped(intent: index, operation: $0, reason: error.message) }
                    kept = []
                }
            }
            operations += kept
            covered.append((index, kept))
        }
        return Plan(operations: operations, covered: covered, dropped: dropped)
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
