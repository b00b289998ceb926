import Foundation
import GRDB
import RoomKeyCore

/// Receiving bundles: every input is checked on its own and applied in its own transaction, in epoch order,
/// with inputs that wait for an earlier epoch kept as pending and retried whenever something is applied.
extension Keyring {
    enum Outcome {
        /// The room as it now is when it advanced, and its name when it is new here.
        case applied(advanced: StoredRoom?, joined: String?)
        case duplicate
        /// For a room this member left, a bundle that adds it again (`BundleDecision.addsBack`).
        case addsBack(room: String)
        case pending(BundleError, keep: Bool, rank: WaitingRank)
        case rejected(any RoomKeyError)
        case malformed(any RoomKeyError)
    }

    struct Queued {
        let index: Int
        let path: String
        /// The input (its bytes, or a way to read them again).
        let input: ReceiveInput
        let bundle: Bundle
        let pendingTag: [UInt8]?
        /// The whole-file hash, once made: a bundle that waits is retried each time another applies, and the hash of
        /// a large room's bundle should not be made again each time.
        let wholeFileHash = WholeFileHash()
    }

    /// The BLAKE2b-256 of a queued bundle's bytes, made at most once (only in a room with rows in `seen_bundle_whole`).
    final class WholeFileHash {
        private var value: [UInt8]?

        func of(_ input: ReceiveInput) throws -> [UInt8] {
            if let value { return value }
            let made = try input.wholeFileHash ?? BLAKE2b.hash([try input.wholeBytes()])
            value = made
            return made
        }
    }

    /// Receives bundles; returns one result per input, plus one per earlier pending bundle that this run settled.
    /// `onResult` sees each result as soon as it is decided (before the responses of the run are written).
    public func receive(_ inputs: [ReceiveInput], deliver: BundleDelivery,
                        onResult: @escaping (ReceiveResult) -> Void = { _ in }) throws -> [ReceiveResult] {
        try receive(ReceiveBatch(inputs), deliver: deliver, onResult: onResult)
    }

    /// Receives a batch whose parse may have started before this keyring opened (see `ReceiveBatch`).
    public func receive(_ batch: ReceiveBatch, deliver: BundleDelivery,
                        onResult: @escaping (ReceiveResult) -> Void = { _ in }) throws -> [ReceiveResult] {
        defer { dropSealAhead() }
        // A large bundle takes as long to hash as the keyring takes to get ready: both at once, on different cores.
        var parsed = try Self.parsingBundles(of: batch) {
            try automaticPrune()
            if readOnlyReason == nil { try installDigestTriggers() }
        }
        let inputs = batch.inputs
        let me = try identity()
        var results = ReceiveResultTable(inputs: inputs.count, announce: onResult)
        var queue: [Queued] = []
        var requests: [(index: Int, path: String, request: LeaveRequest)] = []
        for (index, input) in inputs.enumerated() {
            do {
                // Each slot is let go once read: a bundle that is not for this keyring is not kept to the end.
                let slot = parsed[index]
                parsed[index] = nil
                guard let parsedBundle = slot else {
                    requests.append((index, input.path, try LeaveRequest.parse(input.bytes)))
                    continue
                }
                let bundle = try parsedBundle.get()
                if bundle.sender == me.id || !bundle.recipients.contains(me.id) {
                    results[index] = ReceiveResult(path: input.path, status: .notForMe, roomID: bundle.roomID, epoch: bundle.epoch,
                                                   error: nil, bundles: [], ownBundle: bundle.sender == me.id)
                } else {
                    queue.append(Queued(index: index, path: input.path, input: input, bundle: bundle, pendingTag: nil))
                }
            } catch {
                let header = Bundle.headerFields(input.bytes)
                results[index] = ReceiveResult(path: input.path, status: .malformed, roomID: header?.roomID, epoch: header?.epoch,
                                               error: error, bundles: [])
            }
        }
        // Bundles kept by earlier runs could not apply then, and their room has not moved since: they are read and
        // retried only when this run applies something to their room, so a full pending store costs nothing to an
        // unrelated run.
        var retried: Set<RoomID> = []
        var nextIndex = inputs.count
        func keptBundles(of room: RoomID) throws -> [Queued] {
            guard retried.insert(room).inserted else { return [] }
            return try pendingBundles(room: room).compactMap { kept in
                guard let bundle = try? Bundle.parse(kept.bytes), bundle.roomID == room else { return nil }
                defer { nextIndex += 1 }
                return Queued(index: nextIndex, path: kept.path, input: ReceiveInput(path: kept.path, bytes: kept.bytes), bundle: bundle,
                              pendingTag: kept.tag)
            }
        }
        queue.sort { ($0.bundle.epoch, $0.index) < ($1.bundle.epoch, $1.index) }
        var waiting: [Int: (why: BundleError, keep: Bool, rank: WaitingRank)] = [:]
        var latest: [RoomID: StoredRoom] = [:]
        // The held rooms' names, read at the first room new here, then kept up to date, to warn of a name like one of them.
        var roomNames: RoomNameIndex?
        var progress = true
        while progress {
            progress = false
            var resort = false
            defer { if resort { queue.sort { ($0.bundle.epoch, $0.index) < ($1.bundle.epoch, $1.index) } } }
            for item in queue where results[item.index] == nil {
                let outcome = try process(item, me: me, deliver: deliver)
                let b = item.bundle
                switch outcome {
                case let .pending(why, keep, rank):
                    waiting[item.index] = (why, keep, rank)
                    continue
                case let .applied(advanced, joined):
                    progress = true
                    if let advanced { latest[advanced.id] = advanced }
                    let more = try keptBundles(of: b.roomID)
                    if !more.isEmpty {
                        queue += more
                        resort = true
                    }
                    var result = ReceiveResult(path: item.path, status: .applied, roomID: b.roomID, epoch: b.epoch, error: nil, bundles: [])
                    // A sealed box to this post-quantum identity: its sender holds only a version 1 card of it, and
                    // whatever it sent here is open to an X25519 break (a review: nothing said so).
                    if me.card.isPostQuantum, b.stanza(for: me.id)?.kind == .sealedBox {
                        result.warning = Self.classicalStanzaWarning(sender: b.sender)
                    }
                    if let joined {
                        var index = try roomNames ?? roomNameIndex()
                        if let warning = index.warning(name: joined, id: b.roomID) {
                            result.warning = [result.warning, warning].compactMap { $0 }.joined(separator: "; ")
                        }
                        index.add(joined, id: b.roomID)
                        roomNames = index
                    }
                    results[item.index] = result
                case .duplicate:
                    results[item.index] = ReceiveResult(path: item.path, status: .duplicate, roomID: b.roomID, epoch: b.epoch, error: nil, bundles: [])
                case let .addsBack(room):
                    var result = ReceiveResult(path: item.path, status: .notForMe, roomID: b.roomID, epoch: b.epoch, error: nil, bundles: [])
                    result.warning = Self.addsBackWarning(room: room)
                    results[item.index] = result
                case let .rejected(error):
                    results[item.index] = ReceiveResult(path: item.path, status: .rejected, roomID: b.roomID, epoch: b.epoch, error: error, bundles: [])
                case let .malformed(error):
                    results[item.index] = ReceiveResult(path: item.path, status: .malformed, roomID: b.roomID, epoch: b.epoch, error: error, bundles: [])
                }
                waiting[item.index] = nil
                if let tag = item.pendingTag { try deletePending(tag: tag) }
            }
        }
        // Keep what waits before anything else can fail, so no input is lost.
        // All in one transaction: a receive of thousands of waiting bundles pays one commit, not one each.
        let kept = queue.filter { results[$0.index] == nil && $0.pendingTag == nil }
        let keeping = kept.filter { waiting[$0.index]?.keep != false }
        // An input read ahead holds no bytes: they are read again as it is stored, and must be the bundle that was checked.
        let stores = try storePending(keeping.map { item in
            PendingInput(bytes: { try item.input.wholeBytes() }, path: item.path, room: item.bundle.roomID,
                         rank: waiting[item.index]?.rank ?? .stranger)
        })
        var droppedBy: [Int: Int] = [:]
        for (item, stored) in zip(keeping, stores) {
            switch stored {
            case let .success(count): droppedBy[item.index, default: 0] += count
            case let .failure(error):
                let why = error as? any RoomKeyError ?? ReceiveInput.ReloadError.unreadable(reason: "\(error)")
                // No room left for its rank (`BundleError.pendingFull`) is a rejection; bytes that could not be had again, malformed.
                results[item.index] = ReceiveResult(path: item.path, status: error is BundleError ? .rejected : .malformed, roomID: item.bundle.roomID,
                                                    epoch: item.bundle.epoch, error: why, bundles: [])
            }
        }
        for item in kept where results[item.index] == nil {
            let wait = waiting[item.index]
            let dropped = droppedBy[item.index] ?? 0
            results[item.index] = ReceiveResult(path: item.path, status: .pending, roomID: item.bundle.roomID, epoch: item.bundle.epoch,
                                                error: wait?.why, bundles: [],
                                                warning: dropped == 0 ? nil : "\(dropped) older pending bundle(s) dropped to keep pending bundles under \(pendingByteLimit) bytes in all, \(pendingByteLimit / 8) from senders known nowhere here")
        }
        // Leave requests after every bundle: an admin acts on the roster this run left. Before the rotations: a room
        // where one made a commit owes no key of its own (the commit's bundle carries one, PROTOCOL 5.3).
        for (index, result) in try receiveLeaveRequests(requests, me: me, deliver: deliver).sorted(by: { $0.key < $1.key }) {
            results[index] = result
        }
        CrashPoint.reach(CrashPoint.beforeRotation)
        var blocked: [RoomID: any RoomKeyError] = [:]
        var rotated = try rotateDueRooms(latest, me: me, deliver: deliver, blocked: &blocked)
        let requestIndices = Set(requests.map(\.index))
        for (index, result) in results.values.sorted(by: { $0.key > $1.key }) where result.status == .applied && !requestIndices.contains(index) {
            guard let room = result.roomID else { continue }
            if let path = rotated[room] {
                // The result's warning and kept mark stay: they were lost here (the classical-stanza warning of any bundle whose
                // commit made this member rotate).
                results[index] = ReceiveResult(path: result.path, status: .applied, roomID: room, epoch: result.epoch, error: nil, bundles: [path],
                                               warning: result.warning, kept: result.kept)
                rotated[room] = nil
            } else if let why = blocked[room] {
                results[index] = ReceiveResult(path: result.path, status: .applied, roomID: room, epoch: result.epoch, error: why, bundles: [],
                                               warning: result.warning, kept: result.kept)
                blocked[room] = nil
            }
        }
        return results.values.keys.sorted().compactMap { results[$0] }
    }

    /// Runs `prepare` on this thread while `batch` is parsed (and hashed) on another; an input's slot is nil for a
    /// leave request, else its bundle or why it is not one. A failed `prepare` is thrown once the parse is done.
    static func parsingBundles(of batch: ReceiveBatch, while prepare: () throws -> Void) throws -> [Result<Bundle, WireError>?] {
        do { try prepare() } catch {
            batch.waitUntilParsed()
            throw error
        }
        return try batch.takeParsed()
    }

    /// Checks one bundle in one transaction: the core decides (`BundleAcceptance`), this stores what it decided.
    func process(_ item: Queued, me: borrowing LocalIdentity, deliver: BundleDelivery) throws -> Outcome {
        var bundle = item.bundle
        let digest = tag("bundle", bundle.seenDigest)
        // Keyrings before the seen digest recorded the hash of the whole file: made only in a room that holds such rows.
        let earlierDigest = { self.tag("bundle", try item.wholeFileHash.of(item.input)) }
        do {
            return try write { db in
                let acceptance = BundleAcceptance(view: ReceiverStore(keyring: self, db: db), receiver: me.id, now: now())
                switch try acceptance.decideBeforeOpening(bundle) {
                case let .pending(why, keep, rank)?: return .pending(why, keep: keep, rank: rank)
                case let .rejected(error)?: return .rejected(error)
                default: break
                }
                // A large payload read ahead was let go (`Bundle.retainingStanza`): read again now, at its turn, and it
                // must be the same bundle (`ReceiveInput.wholeBytes`).
                if bundle.payloadLetGo {
                    do {
                        bundle = try Bundle.parse(try item.input.wholeBytes())
                    } catch let error as any RoomKeyError {
                        return .malformed(error)
                    } catch {
                        return .malformed(ReceiveInput.ReloadError.unreadableToOpen(reason: "\(error)"))
                    }
                }
                let content: BundleContent
                switch me.xwing {
                case .some(let xwing): content = try BundleContent(opening: bundle, recipient: me.id, keyPair: me.sealing, xwing: xwing)
                case .none: content = try BundleContent(opening: bundle, recipient: me.id, keyPair: me.sealing)
                }
                sealAheadOfSignedCommits(db, content)
                let decision = try acceptance.decide(content, digest: digest, earlierDigest: earlierDigest, size: item.input.size)
                switch decision {
                case .duplicate: return .duplicate
                case let .pending(why, keep, rank): return .pending(why, keep: keep, rank: rank)
                case let .addsBack(room): return .addsBack(room: room)
                case let .rejected(error): return error.category == .malformed ? .malformed(error) : .rejected(error)
                case let .fork(evidence):
                    try markFork(db, bundle.roomID, evidence)
                    return .rejected(LogError.fork(epoch: evidence.epoch, ours: evidence.ours, theirs: evidence.theirs))
                case let .apply(accepted):
                    if let state = accepted.state, accepted.receiverIsMember { sealAheadOfRotation(roster: state.roster) }
                    let (advanced, joined) = try store(db, accepted, content: content, digest: digest)
                    return .applied(advanced: advanced, joined: joined)
                }
            }
        } catch let error as WireError {
            return .malformed(error)
        } catch let error as IntegrityError {
            // An edited keyring is no verdict on this bundle: the whole command stops.
            throw error
        } catch let error as any RoomKeyError where error.category == .rejected || error.category == .malformed {
            return error.category == .malformed ? .malformed(error) : .rejected(error)
        }
    }

    /// Stores what an applied bundle brings: the new commits, rosters and room state, the sender key if it is new
    /// here, the digest, and audit entries naming exactly what arrived. Returns the room as it now is when it advanced,
    /// and its name when it is new here.
    private func store(_ db: Database, _ accepted: AcceptedBundle, content: borrowing BundleContent, digest: [UInt8]) throws
        -> (StoredRoom?, String?) {
        let bundle = content.bundle
        var advanced: StoredRoom? = nil
        var joinedName: String? = nil
        let name: String
        if let state = accepted.state {
            var room: StoredRoom
            if let joined = accepted.joinedEpoch {
                room = StoredRoom(state: state, forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: joined,
                                  confirmedEpoch: nil, rotationDue: accepted.receiverIsMember)
                joinedName = state.name
            } else {
                guard let record = try loadRoomRecord(db, accepted.roomID) else { throw KeyringError.integrityFailure(table: "room") }
                room = try record.room(roster: state.roster)
                room.state = state
                room.forked = false
                room.forkHeads = []
                if accepted.receiverIsMember {
                    room.ownGeneration = 0
                    room.rotationDue = true
                }
            }
            try storingCommits(db, accepted.roomID) { try accepted.forEachRoster { commit, roster in try storeCommit(db, commit, roster: roster) } }
            try saveRoom(db, room)
            advanced = room
            name = room.name
        } else {
            guard let record = try loadRoomRecord(db, accepted.roomID) else { throw KeyringError.integrityFailure(table: "room") }
            name = record.name
        }
        if accepted.storesKey {
            switch content.senderKey {
            case let .some(key): try storeSenderKey(db, key, signingSecret: SecretBytes(zeroed: 0))
            case .none: break
            }
        }
        try markSeen(db, digest, bundle.roomID)
        for commit in accepted.commits {
            try audit(db, .commitApplied, "\(Self.auditRoom(name, bundle.roomID)) epoch \(commit.epoch) by \(commit.author): " + commit.operations.map(\.verb).joined(separator: ", "))
        }
        let carried = [accepted.commits.isEmpty ? nil : "\(accepted.commits.count) commit(s)", accepted.storesKey ? "sender key" : nil]
        try audit(db, .bundleReceived, "\(Self.auditRoom(name, bundle.roomID)) epoch \(bundle.epoch) from \(bundle.sender): " + carried.compactMap { $0 }.joined(separator: ", "))
        try recordBundle(db, room: bundle.roomID, epoch: bundle.epoch, sender: bundle.sender, made: false, commits: accepted.commits.count)
        return (advanced, joinedName)
    }


    /// Writes this member's new sender key for every room whose epoch advanced (once per room, however many
    /// commits arrived). The flag is stored with the state change, so an interrupted run rotates on the next one.
    /// `latest` holds the rooms as this run left them; one is reused only if the stored record still matches it.
    func rotateDueRooms(_ latest: [RoomID: StoredRoom], me: borrowing LocalIdentity, deliver: BundleDelivery,
                        blocked: inout [RoomID: any RoomKeyError]) throws -> [RoomID: String] {
        var written: [RoomID: String] = [:]
        for (id, cached) in latest {
            do {
                written[id] = try write { db -> String? in
                    guard let record = try loadRoomRecord(db, id), record.rotationDue == true else { return nil }
                    let unchanged = record.epoch == cached.state.epoch && record.head == Hex.encode(cached.state.head) && !record.forked
                    guard var next = unchanged ? cached : try loadRoom(db, id), !next.forked else { return nil }
                    guard next.state.roster[me.id] != nil, !next.left else {
                        // Nothing to send in a room this member is no longer in: the debt is void.
                        var cleared = record
                        cleared.rotationDue = false
                        try saveRecord(db, cleared)
                        return nil
                    }
                    next.rotationDue = false
                    // The same path as a commit's or `room rotate`'s bundle: stored state, sealing, delivery, audit.
                    return try finishCommit(db, room: next, commits: [], me: me, rotate: true, deliver: deliver).bundlePath
                }
            } catch let error as any RoomKeyError {
                // The rotation stays due and is retried when the room next advances; the caller reports why.
                blocked[id] = error
            }
        }
        return written
    }

    /// What receive says of a bundle that sealed its key to this post-quantum identity with X25519 alone.
    static func classicalStanzaWarning(sender: IdentityID) -> String {
        // The sender may hold a version 1 card of this identity, or may have chosen X25519 alone: both read the same here.
        "\(sender) sealed this bundle's key to you with X25519 alone, not post-quantum: it holds a version 1 card of "
            + "yours, or chose not to use your X-Wing key; if it has no version 2 card of yours, give it one ('roomkey id export')"
    }
}
