import Foundation
import GRDB
import RoomKeyCore

/// Receiving bundles: every input is checked on its own and applied in its own transaction, in epoch order,
/// with inputs that wait for an earlier epoch kept as pending and retried whenever something is applied.
extension Keyring {
    enum Outcome {
        case applied(advanced: StoredRoom?)
        case duplicate
        case pending(BundleError)
        case rejected(any RoomKeyError)
        case malformed(any RoomKeyError)
    }

    struct Queued {
        let index: Int
        let path: String
        let bytes: [UInt8]
        let bundle: Bundle
        let pendingTag: [UInt8]?
    }

    /// Receives bundles; returns one result per input, plus one per earlier pending bundle that this run settled.
    public func receive(_ inputs: [ReceiveInput], deliver: BundleDelivery) throws -> [ReceiveResult] {
        try automaticPrune()
        let me = try identity()
        var results: [Int: ReceiveResult] = [:]
        var queue: [Queued] = []
        for (index, input) in inputs.enumerated() {
            do {
                let bundle = try Bundle.parse(input.bytes)
                if bundle.sender == me.id || !bundle.recipients.contains(me.id) {
                    results[index] = ReceiveResult(path: input.path, status: .notForMe, roomID: bundle.roomID, epoch: bundle.epoch,
                                                   error: nil, bundles: [])
                } else {
                    queue.append(Queued(index: index, path: input.path, bytes: input.bytes, bundle: bundle, pendingTag: nil))
                }
            } catch {
                results[index] = ReceiveResult(path: input.path, status: .malformed, roomID: nil, epoch: nil, error: error, bundles: [])
            }
        }
        for (offset, stored) in try pendingBundles().enumerated() {
            guard let bundle = try? Bundle.parse(stored.bytes) else { continue }
            queue.append(Queued(index: inputs.count + offset, path: stored.path, bytes: stored.bytes, bundle: bundle, pendingTag: stored.tag))
        }
        queue.sort { ($0.bundle.epoch, $0.index) < ($1.bundle.epoch, $1.index) }
        var waiting: [Int: BundleError] = [:]
        var latest: [RoomID: StoredRoom] = [:]
        var progress = true
        while progress {
            progress = false
            for item in queue where results[item.index] == nil {
                let outcome = try process(item, me: me, deliver: deliver)
                let b = item.bundle
                switch outcome {
                case let .pending(why):
                    waiting[item.index] = why
                    continue
                case let .applied(advanced):
                    progress = true
                    if let advanced { latest[advanced.id] = advanced }
                    results[item.index] = ReceiveResult(path: item.path, status: .applied, roomID: b.roomID, epoch: b.epoch, error: nil, bundles: [])
                case .duplicate:
                    results[item.index] = ReceiveResult(path: item.path, status: .duplicate, roomID: b.roomID, epoch: b.epoch, error: nil, bundles: [])
                case let .rejected(error):
                    results[item.index] = ReceiveResult(path: item.path, status: .rejected, roomID: b.roomID, epoch: b.epoch, error: error, bundles: [])
                case let .malformed(error):
                    results[item.index] = ReceiveResult(path: item.path, status: .malformed, roomID: b.roomID, epoch: b.epoch, error: error, bundles: [])
                }
                waiting[item.index] = nil
                if let tag = item.pendingTag { try write { db in try db.execute(sql: "DELETE FROM pending_bundle WHERE bundle_tag = ?", arguments: [Data(tag)]) } }
            }
        }
        // Keep what waits before anything else can fail, so no input is lost.
        for item in queue where results[item.index] == nil && item.pendingTag == nil {
            do {
                try storePending(item)
                results[item.index] = ReceiveResult(path: item.path, status: .pending, roomID: item.bundle.roomID, epoch: item.bundle.epoch,
                                                    error: waiting[item.index], bundles: [])
            } catch let error as BundleError {
                results[item.index] = ReceiveResult(path: item.path, status: .rejected, roomID: item.bundle.roomID, epoch: item.bundle.epoch,
                                                    error: error, bundles: [])
            }
        }
        var blocked: [RoomID: any RoomKeyError] = [:]
        var rotated = try rotateDueRooms(latest, me: me, deliver: deliver, blocked: &blocked)
        for (index, result) in results.sorted(by: { $0.key > $1.key }) where result.status == .applied {
            guard let room = result.roomID else { continue }
            if let path = rotated[room] {
                results[index] = ReceiveResult(path: result.path, status: .applied, roomID: room, epoch: result.epoch, error: nil, bundles: [path])
                rotated[room] = nil
            } else if let why = blocked[room] {
                results[index] = ReceiveResult(path: result.path, status: .applied, roomID: room, epoch: result.epoch, error: why, bundles: [])
                blocked[room] = nil
            }
        }
        return results.keys.sorted().compactMap { results[$0] }
    }

    /// Checks and applies one bundle in one transaction; nothing is stored unless every check passed.
    func process(_ item: Queued, me: borrowing LocalIdentity, deliver: BundleDelivery) throws -> Outcome {
        let bundle = item.bundle
        let digest = tag("bundle", BLAKE2b.hash([item.bytes]))
        do {
            return try write { db in
                if try Data.fetchOne(db, sql: "SELECT bundle_tag FROM seen_bundle WHERE bundle_tag = ?", arguments: [Data(digest)]) != nil {
                    return .duplicate
                }
                let content = try BundleContent(opening: bundle, recipient: me.id, keyPair: me.sealing)
                let commits = content.commits
                // Commits run in consecutive epochs and end at the bundle's epoch.
                for (a, b) in zip(commits, commits.dropFirst()) where b.epoch != a.epoch &+ 1 {
                    throw BundleError.commitsOutOfOrder
                }
                if let last = commits.last, last.epoch != bundle.epoch {
                    throw BundleError.epochMismatch(header: bundle.epoch, content: last.epoch)
                }
                if let info = content.senderKeyInfo, info.epoch != bundle.epoch {
                    throw BundleError.epochMismatch(header: bundle.epoch, content: info.epoch)
                }
                guard let record = try loadRoomRecord(db, bundle.roomID) else {
                    guard commits.first?.epoch == 0 else { return .pending(.waiting("the log of room \(bundle.roomID)")) }
                    return try join(db, bundle: bundle, content: content, digest: digest, me: me.id)
                }
                // Commits this keyring already has must be byte-identical: a different one is a fork or a forgery.
                for commit in commits where commit.epoch <= record.epoch {
                    let stored = try storedCommit(db, bundle.roomID, commit.epoch)
                    if let stored, stored.encoded == commit.encoded { continue }
                    return try fork(db, record: record, bundle: bundle, content: content, commit: commit, stored: stored)
                }
                let fresh = commits.filter { $0.epoch > record.epoch }
                if fresh.isEmpty {
                    if bundle.epoch > record.epoch { return .pending(.waiting("epoch \(bundle.epoch) of room \(record.name)")) }
                    // Only known commits and no key: an old commit replayed after a newer one.
                    if !commits.isEmpty, content.senderKeyInfo == nil, bundle.epoch < record.epoch {
                        throw LogError.stale(epoch: bundle.epoch, current: record.epoch)
                    }
                    return try acceptKey(db, record: record, bundle: bundle, content: content, digest: digest)
                }
                guard let first = fresh.first, first.epoch == record.epoch + 1 else {
                    return .pending(.waiting("epoch \(record.epoch + 1) of room \(record.name)"))
                }
                return try advance(db, bundle: bundle, content: content, commits: fresh, digest: digest, me: me.id)
            }
        } catch let error as WireError {
            return .malformed(error)
        } catch let error as BundleError where error.category == .pending {
            return .pending(error)
        } catch let error as any RoomKeyError where error.category == .rejected || error.category == .malformed {
            return error.category == .malformed ? .malformed(error) : .rejected(error)
        }
    }

    /// A bundle that carries no new commit: a member's sender key for an epoch this keyring has accepted.
    private func acceptKey(_ db: Database, record: RoomRecord, bundle: Bundle, content: borrowing BundleContent,
                           digest: [UInt8]) throws -> Outcome {
        guard let view = try epochRosterView(db, bundle.roomID, bundle.epoch) else { throw BundleError.epochUnknown(bundle.epoch) }
        guard view.ids.contains(bundle.sender) else { throw BundleError.senderNotMember(bundle.sender, epoch: bundle.epoch) }
        try checkSender(bundle, content: content, recipients: view.ids.subtracting([bundle.sender]), card: try view.card(of: bundle.sender))
        try finish(db, bundle: bundle, content: content, digest: digest, roomName: record.name, applied: [])
        return .applied(advanced: nil)
    }

    /// A bundle whose commits extend the accepted log (and may end a fork on the accepted branch).
    private func advance(_ db: Database, bundle: Bundle, content: borrowing BundleContent, commits: [Commit], digest: [UInt8],
                         me: IdentityID) throws -> Outcome {
        guard var room = try loadRoom(db, bundle.roomID) else { throw KeyringError.integrityFailure(table: "room") }
        var previous = room.state.roster
        var applied: [(Commit, Roster)] = []
        for commit in commits {
            previous = room.state.roster
            room.state = try room.state.applying(commit)
            applied.append((commit, room.state.roster))
        }
        try checkCommitBundle(bundle, content: content, previous: previous, roster: room.state.roster, last: commits.last)
        room.forked = false
        room.forkHeads = []
        if room.state.roster[me] != nil {
            room.ownGeneration = 0
            room.rotationDue = true
        }
        for (commit, roster) in applied { try storeCommit(db, commit, roster: roster) }
        try saveRoom(db, room)
        try finish(db, bundle: bundle, content: content, digest: digest, roomName: room.name, applied: applied.map(\.0))
        return .applied(advanced: room)
    }

    /// A room this keyring does not know yet: the whole log, checked from genesis, from a sender who is a contact.
    private func join(_ db: Database, bundle: Bundle, content: borrowing BundleContent, digest: [UInt8], me: IdentityID) throws -> Outcome {
        let commits = content.commits
        guard let genesis = commits.first else { return .pending(.waiting("the log of room \(bundle.roomID)")) }
        var state = try RoomState.genesis(genesis)
        var previous = Roster()
        var applied = [(genesis, state.roster)]
        var joined: UInt64? = state.roster[me] != nil ? 0 : nil
        for commit in commits.dropFirst() {
            previous = state.roster
            state = try state.applying(commit)
            applied.append((commit, state.roster))
            if joined == nil, state.roster[me] != nil { joined = commit.epoch }
        }
        guard let contact = try fetchContact(db, id: bundle.sender),
              contact.card.signingKey == (state.roster[bundle.sender] ?? previous[bundle.sender])?.card.signingKey else {
            throw BundleError.unknownSender(bundle.sender)
        }
        try checkCommitBundle(bundle, content: content, previous: previous, roster: state.roster, last: commits.last)
        let room = StoredRoom(state: state, forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: joined ?? state.epoch,
                              confirmedEpoch: nil, rotationDue: state.roster[me] != nil)
        for (commit, roster) in applied { try storeCommit(db, commit, roster: roster) }
        try saveRoom(db, room)
        try finish(db, bundle: bundle, content: content, digest: digest, roomName: room.name, applied: commits)
        return .applied(advanced: room)
    }

    /// Sender and recipients of a bundle that carries commits. A member who leaves sends the leave, from the
    /// previous roster, to the whole new roster and with no key; anyone else is in the new roster and sends to
    /// the rest of it.
    private func checkCommitBundle(_ bundle: Bundle, content: borrowing BundleContent, previous: Roster, roster: Roster,
                                   last: Commit?) throws {
        let ids = Set(roster.members.keys)
        if let last, last.operations == [.leave], last.author == bundle.sender {
            guard content.senderKeyInfo == nil else { throw BundleError.keyFromLeaver }
            try checkSender(bundle, content: content, recipients: ids, card: previous[bundle.sender]?.card)
            return
        }
        guard ids.contains(bundle.sender) else { throw BundleError.senderNotMember(bundle.sender, epoch: bundle.epoch) }
        try checkSender(bundle, content: content, recipients: ids.subtracting([bundle.sender]), card: roster[bundle.sender]?.card)
    }

    /// Stores the carried sender key and records the bundle as applied.
    private func finish(_ db: Database, bundle: Bundle, content: borrowing BundleContent, digest: [UInt8], roomName: String,
                        applied: [Commit]) throws {
        switch content.senderKey {
        case let .some(key): try storeSenderKey(db, key, signingSecret: SecretBytes(zeroed: 0))
        case .none: break
        }
        try markSeen(db, digest, bundle.roomID)
        for commit in applied {
            try audit(db, .commitApplied, "\(roomName) epoch \(commit.epoch) by \(commit.author): " + commit.operations.map(\.verb).joined(separator: ", "))
        }
        try audit(db, .bundleReceived, "\(roomName) epoch \(bundle.epoch) from \(bundle.sender)" + (applied.isEmpty ? ": sender key" : ""))
        try recordBundle(db, room: bundle.roomID, epoch: bundle.epoch, sender: bundle.sender, made: false, commits: applied.count)
    }

    /// The bundle is signed by `card` (the sender's identity in the roster that counts) and sealed to exactly `recipients`.
    func checkSender(_ bundle: Bundle, content: borrowing BundleContent, recipients expected: Set<IdentityID>, card: IdentityCard?) throws {
        guard let card, card.id == bundle.sender else { throw BundleError.senderNotMember(bundle.sender, epoch: bundle.epoch) }
        try content.verify(signer: card.signingKey)
        let got = Set(bundle.recipients)
        if got != expected {
            throw BundleError.recipientsMismatch(extra: got.subtracting(expected).sorted(), missing: expected.subtracting(got).sorted())
        }
    }

    func markSeen(_ db: Database, _ digest: [UInt8], _ room: RoomID) throws {
        try db.execute(sql: "INSERT INTO seen_bundle (bundle_tag, room_tag) VALUES (?, ?)", arguments: [Data(digest), Data(roomTag(room))])
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
                    guard var next = unchanged ? cached : try loadRoom(db, id), !next.forked, next.state.roster[me.id] != nil else {
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
}
