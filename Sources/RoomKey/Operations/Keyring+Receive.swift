import Foundation
import GRDB

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
        _ = try pruneExpired()
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
        var blocked: [RoomID: RoomError] = [:]
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
        for item in queue where results[item.index] == nil && item.pendingTag == nil {
            try storePending(item)
            results[item.index] = ReceiveResult(path: item.path, status: .pending, roomID: item.bundle.roomID, epoch: item.bundle.epoch,
                                                error: waiting[item.index], bundles: [])
        }
        return results.keys.sorted().compactMap { results[$0] }
    }

    /// Checks and applies one bundle in one transaction.
    func process(_ item: Queued, me: borrowing LocalIdentity, deliver: BundleDelivery) throws -> Outcome {
        let bundle = item.bundle
        let digest = tag("bundle", BLAKE2b.hash([item.bytes]))
        do {
            return try write { db in
                if try Data.fetchOne(db, sql: "SELECT bundle_tag FROM seen_bundle WHERE bundle_tag = ?", arguments: [Data(digest)]) != nil {
                    return .duplicate
                }
                let content = try BundleContent(opening: bundle, recipient: me.id, keyPair: me.sealing)
                if content.commits.isEmpty {
                    // A sender key alone: only the record, the member ids and the sender's card are needed.
                    guard let record = try loadRoomRecord(db, bundle.roomID) else {
                        return .pending(.waiting("the log of room \(bundle.roomID)"))
                    }
                    if record.forked { throw BundleError.roomForked(record.name) }
                    if bundle.epoch > record.epoch { return .pending(.waiting("epoch \(bundle.epoch) of room \(record.name)")) }
                    guard let view = try epochRosterView(db, bundle.roomID, bundle.epoch) else { throw BundleError.epochUnknown(bundle.epoch) }
                    try checkSender(bundle, content: content, members: view.ids, card: try view.card(of: bundle.sender))
                    if let key = content.senderKey {
                        guard key.info.epoch == bundle.epoch else { throw BundleError.epochMismatch(header: bundle.epoch, content: key.info.epoch) }
                        try storeSenderKey(db, key, signingSecret: SecretBytes(zeroed: 0))
                    }
                    try markSeen(db, digest, bundle.roomID)
                    try audit(db, .bundleReceived, "\(record.name) epoch \(bundle.epoch) from \(bundle.sender): sender key")
                    try recordBundle(db, room: bundle.roomID, epoch: bundle.epoch, sender: bundle.sender, made: false, commits: 0)
                    return .applied(advanced: nil)
                }
                let step = try advance(db, bundle: bundle, commits: content.commits)
                guard case let .ready(start, next, applied) = step else {
                    if case let .wait(why) = step { return .pending(why) }
                    if case let .fork(room, error) = step {
                        try saveRoom(db, room)
                        return .rejected(error)
                    }
                    return .duplicate
                }
                if let last = content.commits.last, last.epoch != bundle.epoch {
                    throw BundleError.epochMismatch(header: bundle.epoch, content: last.epoch)
                }
                // Commits end at the bundle's epoch, so its roster is the new current one.
                let roster = next.state.roster
                if start == nil {
                    guard let contact = try fetchContact(db, id: bundle.sender),
                          contact.card.signingKey == roster[bundle.sender]?.card.signingKey else {
                        throw BundleError.unknownSender(bundle.sender)
                    }
                }
                try checkSender(bundle, content: content, members: Set(roster.members.keys), card: roster[bundle.sender]?.card)
                if let key = content.senderKey {
                    guard key.info.epoch == bundle.epoch else { throw BundleError.epochMismatch(header: bundle.epoch, content: key.info.epoch) }
                    try storeSenderKey(db, key, signingSecret: SecretBytes(zeroed: 0))
                }
                var room = next
                for (commit, roster) in applied { try storeCommit(db, commit, roster: roster) }
                if !applied.isEmpty {
                    if room.state.roster[me.id] != nil {
                        room.ownGeneration = 0
                        room.rotationDue = true
                    }
                    try saveRoom(db, room)
                }
                try markSeen(db, digest, bundle.roomID)
                for (commit, _) in applied {
                    try audit(db, .commitApplied, "\(room.name) epoch \(commit.epoch) by \(commit.author): "
                        + commit.operations.map(\.verb).joined(separator: ", "))
                }
                try audit(db, .bundleReceived, "\(room.name) epoch \(bundle.epoch) from \(bundle.sender)")
                try recordBundle(db, room: bundle.roomID, epoch: bundle.epoch, sender: bundle.sender, made: false,
                                 commits: content.commits.count)
                return .applied(advanced: applied.isEmpty ? nil : room)
            }
        } catch let error as WireError {
            return .malformed(error)
        } catch let error as BundleError where error.category == .pending {
            return .pending(error)
        } catch let error as any RoomKeyError where error.category == .rejected || error.category == .malformed {
            return error.category == .malformed ? .malformed(error) : .rejected(error)
        }
    }

    /// The sender is a member at the bundle's epoch, signed it, and sealed it to exactly the other members.
    func checkSender(_ bundle: Bundle, content: borrowing BundleContent, members: Set<IdentityID>, card: IdentityCard?) throws {
        guard members.contains(bundle.sender), let card else { throw BundleError.senderNotMember(bundle.sender, epoch: bundle.epoch) }
        try content.verify(signer: card.signingKey)
        let expected = members.subtracting([bundle.sender]), got = Set(bundle.recipients)
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
                        blocked: inout [RoomID: RoomError]) throws -> [RoomID: String] {
        var written: [RoomID: String] = [:]
        for (id, cached) in latest {
            do {
            written[id] = try write { db -> String? in
                guard let record = try loadRoomRecord(db, id), record.rotationDue == true else { return nil }
                let unchanged = record.epoch == cached.state.epoch && record.head == Hex.encode(cached.state.head) && !record.forked
                guard var next = unchanged ? cached : try loadRoom(db, id), !next.forked, next.state.roster[me.id] != nil else { return nil }
                next.rotationDue = false
                try saveRoom(db, next)
                let output = try makeBundle(db, room: next, commits: [], me: me, withKey: true)
                let path = try deliver(output)
                try audit(db, .rotation, "\(next.name) epoch \(next.state.epoch) after a commit")
                try audit(db, .bundleMade, "\(next.name) epoch \(next.state.epoch) sealed to \(output.recipientCount): \(path)")
                try recordBundle(db, room: id, epoch: next.state.epoch, sender: me.id, made: true, commits: 0)
                return path
            }
            } catch let error as RoomError {
                // The rotation stays due; the caller reports why (a contact whose key changed blocks it).
                blocked[id] = error
            }
        }
        return written
    }

    enum Step {
        case ready(start: StoredRoom?, next: StoredRoom, applied: [(Commit, Roster)])
        case wait(BundleError)
        case fork(StoredRoom, LogError)
    }

    /// Applies the commits a bundle carries to the stored room (or builds the room from a full log).
    func advance(_ db: Database, bundle: Bundle, commits: [Commit]) throws -> Step {
        guard let room = try loadRoom(db, bundle.roomID) else {
            guard let first = commits.first, first.epoch == 0 else { return .wait(.waiting("the log of room \(bundle.roomID)")) }
            var state = try RoomState.genesis(first)
            var applied = [(first, state.roster)]
            for commit in commits.dropFirst() {
                state = try state.applying(commit)
                applied.append((commit, state.roster))
            }
            let joined = StoredRoom(state: state, forked: false, forkHeads: [], ownGeneration: 0, joinedEpoch: state.epoch, confirmedEpoch: nil)
            return .ready(start: nil, next: joined, applied: applied)
        }
        if room.forked { throw BundleError.roomForked(room.name) }
        var next = room
        var applied: [(Commit, Roster)] = []
        for commit in commits.sorted(by: { $0.epoch < $1.epoch }) {
            if commit.epoch <= next.state.epoch {
                let stored = try storedCommit(db, room.id, commit.epoch)
                if let stored, stored.encoded == commit.encoded { continue }
                if let error = try forkCheck(db, room: room, commit: commit, stored: stored) {
                    next.forked = true
                    next.forkHeads = [Hex.encode(stored?.head ?? []), Hex.encode(commit.head)]
                    return .fork(next, error)
                }
                continue
            }
            if commit.epoch > next.state.epoch + 1 { return .wait(.waiting("epoch \(next.state.epoch + 1) of room \(room.name)")) }
            next.state = try next.state.applying(commit)
            applied.append((commit, next.state.roster))
        }
        if !commits.isEmpty, applied.isEmpty, bundle.epoch < room.state.epoch {
            throw LogError.stale(epoch: bundle.epoch, current: room.state.epoch)
        }
        return .ready(start: room, next: next, applied: applied)
    }

    /// For a commit that differs from the accepted one of its epoch: a fork error if it is valid there, else its own error.
    func forkCheck(_ db: Database, room: StoredRoom, commit: Commit, stored: Commit?) throws -> LogError? {
        do {
            if commit.epoch == 0 {
                _ = try RoomState.genesis(commit)
            } else {
                _ = try RoomState.replay(try storedLog(db, room.id, through: commit.epoch - 1)).applying(commit)
            }
        } catch let error as LogError {
            throw error
        }
        return .fork(epoch: commit.epoch, ours: stored?.head ?? [], theirs: commit.head)
    }
}
