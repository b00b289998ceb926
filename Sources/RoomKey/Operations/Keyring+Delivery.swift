import Foundation
import GRDB
import RoomKeyCore

/// What `outbox flush` wrote.
public struct FlushedBundle: Sendable {
    /// The file written.
    public let path: String
    /// The room.
    public let roomID: RoomID
    /// The bundle's epoch.
    public let epoch: UInt64
}

/// Delivery through the transactional outbox: entries are written out after their transaction commits, every write
/// command first writes what an earlier, interrupted one left, and own sender keys owed after a receive are made.
extension Keyring {
    /// Writes every undelivered entry through `sink`, oldest first, marking each delivered once its file is durable.
    /// Without a sink nothing is written. An entry that cannot be written stays undelivered and the others go on; the
    /// first such failure is thrown at the end, unless it concerns only entries older than the running command's
    /// (`ownOnly`), which are reported through `onWarning` instead.
    @discardableResult
    public func flushOutbox(ownOnly: Bool = false) throws -> [FlushedBundle] {
        guard let sink, !flushing else { return [] }
        flushing = true
        defer { flushing = false }
        var done: [FlushedBundle] = []
        var failure: OutboxError?
        // Marking an entry delivered is a write transaction, which starts a new list: the running command's are kept.
        let own = enqueuedNow
        /// A failure of `item`'s: thrown at the end, or only said when it is an older command's (`ownOnly`).
        func fail(_ item: OutboxItem, _ error: OutboxError, listHint: Bool = true) {
            if ownOnly, own[item.tag] == nil {
                onWarning?(error.message + (listHint ? "; see 'roomkey outbox list'" : ""))
            } else if failure == nil {
                failure = error
            }
        }
        func describe(_ error: any Error) -> String { (error as? any RoomKeyError)?.message ?? "\(error)" }
        /// `item` is written at `path`.
        func written(_ item: OutboxItem, at path: String) {
            guard let id = try? RoomID(bytes: Hex.decode(item.record.roomID, what: "room id")) else { return }
            done.append(FlushedBundle(path: path, roomID: id, epoch: item.record.epoch))
            flushed += done.suffix(1)
        }
        for item in try undeliveredOutbox(known: own) {
            let record = item.record
            do {
                try sink.write(record.target, item.bytes)
            } catch let dropped as BundleSink.Dropped {
                // Written to a new name instead, never settled without a file: a commit or sender key dropped silently
                // (marked delivered) left every member behind, or this member encrypting under a key no one had, until
                // someone thought of `outbox resend` (a crash review).
                do {
                    let path = try redeliver(item, sink: sink)
                    onWarning?("\(dropped.reason); written to \(path) instead")
                    written(item, at: path)
                } catch {
                    fail(item, .undelivered(path: record.target, reason: "\(dropped.reason); and not elsewhere: \(describe(error))"))
                }
                continue
            } catch {
                fail(item, .undelivered(path: record.target, reason: describe(error)))
                continue
            }
            CrashPoint.reach(CrashPoint.afterWrite)
            // The file is written and the change it belongs to committed long before: a failure to record that it
            // was delivered (a disk that filled up in between) must not be reported as "nothing was changed". The
            // entry stays undelivered and is written again (same path) by the next command or `outbox flush`.
            do {
                try markDelivered(item)
            } catch {
                fail(item, .undelivered(path: record.target, reason: "it was written, but recording that failed (\(describe(error))); it will be written again"),
                     listHint: false)
                continue
            }
            written(item, at: record.target)
        }
        if let failure { throw failure }
        return done
    }

    /// Writes `item` to a new name from `sink` (the outbox folder) and records it delivered there; the path.
    private func redeliver(_ item: OutboxItem, sink: BundleSink) throws -> String {
        let record = item.record
        let id = try RoomID(bytes: Hex.decode(record.roomID, what: "room id"))
        let path = try sink.name(BundleOutput(roomID: id, roomName: record.roomName, epoch: record.epoch, recipientCount: 0, bytes: item.bytes))
        try sink.write(path, item.bytes)
        try markDelivered(item, target: path)
        return path
    }

    /// Pays what earlier commands left: own sender keys owed for rooms that advanced (a `receive` killed before its
    /// rotation), then every undelivered entry. A rotation that cannot be made now (a key change blocks it) stays owed.
    func settleOutbox() throws {
        guard let sink else { return }
        let owed = try owedRotations()
        if !owed.isEmpty {
            let me = try identity()
            let rooms = try read { db in try owed.compactMap { try loadRoom(db, tag: $0) } }
            var blocked: [RoomID: any RoomKeyError] = [:]
            _ = try rotateDueRooms(Dictionary(rooms.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }), me: me,
                                   deliver: sink.name, blocked: &blocked)
        }
        try flushOutbox()
    }

    /// `outbox flush`: pays owed sender keys and writes every undelivered entry; returns what was written.
    public func settleOutboxNow() throws -> [FlushedBundle] {
        flushed = []
        try settleOutbox()
        return flushed
    }

    /// The outbox: undelivered entries and those delivered within the history window, oldest first.
    public func outboxEntries() throws -> [OutboxEntry] {
        try read { db in
            try outboxRecords(db).compactMap { _, r in
                guard let id = try? RoomID(bytes: Hex.decode(r.roomID, what: "room id")) else { return nil }
                return OutboxEntry(target: r.target, roomID: id, roomName: r.roomName, epoch: r.epoch, kind: r.kind, created: r.created,
                                   delivered: r.delivered, size: r.size)
            }
        }
    }

    /// Writes again what this keyring sent for a room's epoch (default: the current one), for members who lost it: the
    /// recorded bundles of that epoch, byte for byte, if the outbox still holds them, else a new bundle carrying the
    /// epoch's commit (the whole log if it added members) and, at the current epoch, this member's current sender key,
    /// sealed to that epoch's roster. `withCommit` adds, before recorded bundles that do not carry the epoch's commit (a
    /// member's own carry only its keys), a bundle carrying that commit and no key, for a keyring that lost the commit
    /// (an admin restored from a backup); this keyring's own commit is added so without asking. Returns the files written.
    public func resend(room nameOrID: String, epoch requested: UInt64?, withCommit: Bool = false,
                       deliver: BundleDelivery) throws -> [String] {
        try automaticPrune()
        let me = try identity()
        return try write { db in
            let room = try distributableRoom(db, nameOrID, me: me.id)
            let epoch = requested ?? room.state.epoch
            if epoch < room.joinedEpoch { throw OutboxError.beforeJoin(room: room.name, epoch: epoch, joined: room.joinedEpoch) }
            guard epoch <= room.state.epoch, let commit = try storedCommit(db, room.id, epoch),
                  let roster = try epochRoster(db, room.id, epoch) else {
                throw OutboxError.noSuchEpoch(room: room.name, epoch: epoch)
            }
            let kept = try outboxRecords(db, withBundles: { $0.roomID == room.id.hex && $0.epoch == epoch
                && ($0.kind == "commit" || $0.kind == "sender-key") })
            // Under `--require-pq` a kept bundle with a version 1 stanza is not sent again: the bundle is made anew,
            // which refuses while a member is still on a version 1 card.
            let classical = room.requirePQ && kept.contains { Self.hasVersion1Stanza($0.bytes) }
            guard roster[me.id] != nil || (!kept.isEmpty && !classical) else { throw RoomError.notMember(room: room.name) }
            // An epoch that ended longer ago than the room's retention (as sync deletes its keys folder, §9.3): its keys
            // are not handed out again, to a member who never held them either (a review); its commit alone may go.
            let ended = epoch < room.state.epoch ? try storedCommit(db, room.id, epoch + 1)?.time : nil
            let expired = RemoteLayout.keysExpired(epoch: epoch, current: room.state.epoch, retention: room.retentionSeconds,
                                                   now: now(), ended: ended)
            let adds = commit.operations.contains { if case .add = $0 { true } else { false } }
            var atEpoch = room
            atEpoch.state = RoomState(at: commit, name: room.name, roster: roster)
            /// A new bundle of the epoch's commits, with this member's current key at the current epoch when `key`.
            func anew(key: Bool) throws -> String {
                let commits = adds ? try storedLog(db, room.id, through: epoch) : [commit]
                let output = try makeBundle(db, room: atEpoch, commits: commits, me: me, withKey: false,
                                            ownKey: key && epoch == room.state.epoch ? room.ownGeneration : nil)
                return try enqueue(db, output, kind: "resend", deliver: deliver)
            }
            if expired {
                guard withCommit, roster[me.id] != nil else { throw OutboxError.pastRetention(room: room.name, epoch: epoch) }
                return [try anew(key: false)]
            }
            guard !kept.isEmpty, !classical else { return [try anew(key: true)] }
            // The commit goes apart, first, and without a key: a key from the ratchet as it stands now would skip the
            // messages already sent under it, and the recorded bundle that starts that key at message 0 would then be
            // refused as no new key (a review). It goes when asked, and always for this keyring's own commit whose
            // recorded bundle is gone while a later one of the epoch (a rotation) is kept (a review: the admin's resend
            // was that rotation alone).
            let commitKept = kept.contains { $0.record.kind == "commit" }
            let withTheCommit = !commitKept && (withCommit || commit.author == me.id) && roster[me.id] != nil
            let first = withTheCommit ? [try anew(key: false)] : []
            // Byte for byte, so that a member who has them sees `duplicate`.
            return first + (try kept.map { item in
                try enqueue(db, BundleOutput(roomID: room.id, roomName: room.name, epoch: epoch, recipientCount: 0, bytes: item.bytes),
                            kind: "resend", deliver: deliver)
            })
        }
    }
}
