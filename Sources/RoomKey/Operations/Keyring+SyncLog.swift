import Foundation
import GRDB
import RoomKeyCore

/// The commit files of epochs a keyring holds (docs/PROTOCOL.md §9.3): another commit there is given to `receive` (a
/// fork at the current epoch becomes evidence), and a missing or invalid one is published again; a file that may be a
/// valid commit for other receivers is never overwritten (`LockFileCheck`).
extension Keyring {
    /// Judges the file `bytes` at the commit path of `room`'s `epoch` against what this keyring holds; `opened` is
    /// true when this keyring could open it (so a different commit in it can be shown to `receive`). `own` is this
    /// keyring's own bundle for that path, when it holds one (its staged flight, or its outbox copy). `restored`: the
    /// file may be this keyring's own commit from after the backup it was restored from (`LockFileCheck.judge`).
    func judgeLockFile(_ db: Database, _ bytes: [UInt8], room: StoredRoom, epoch: UInt64, own: [UInt8]? = nil, restored: Bool = false,
                       me: borrowing LocalIdentity) throws -> (verdict: LockFileCheck.Verdict, opened: Bool) {
        let base: LockFileCheck.Base
        if epoch == 0 {
            guard let genesis = try checkedCommit(db, room.id, 0) else { return (.keep("epoch 0 is not held here"), false) }
            base = .genesis(creator: genesis.author)
        } else {
            guard let prior = try checkedCommit(db, room.id, epoch - 1), let roster = try epochRoster(db, room.id, epoch - 1) else {
                return (.keep("epoch \(epoch - 1) is not held here"), false)
            }
            base = .after(RoomState(at: prior, name: room.name, roster: roster), time: prior.time)
        }
        let expected = try checkedCommit(db, room.id, epoch)?.head
        var senderMadeAnother = false, stanzaShowsForgery = false
        func judge(_ found: LockFileCheck.Found, _ signed: (SigningPublicKey) -> Bool = { _ in false }) -> LockFileCheck.Verdict {
            LockFileCheck.judge(found, room: room.id, epoch: epoch, base: base, expected: expected, now: now(),
                                senderMadeAnother: senderMadeAnother, restored: restored, receiver: me.id,
                                stanzaShowsForgery: stanzaShowsForgery,
                                signed: signed)
        }
        let bundle: Bundle
        do throws(WireError) { bundle = try Bundle.parse(bytes) } catch { return (judge(.unparsable(error.message)), false) }
        if let own, own != bytes, bundle.sender == me.id { senderMadeAnother = true }
        do {
            let content = try open(bundle, me: me)
            return (judge(.opened(bundle, commits: content.commits)) { (try? content.verify(signer: $0)) != nil }, true)
        } catch let error as WireError {
            return (judge(.unparsable(error.message)), false)
        } catch {
            // Proof that the file is not what its sender sealed (`LockFileCheck.stanzaShowsForgery`).
            let stanzaOpened: Bool
            if case .sealedBoxOpenFailed? = error as? CryptoError { stanzaOpened = false } else { stanzaOpened = true }
            let current: XWingPublicKey? = switch me.xwing {
            case .some(let pair): pair.publicKey
            case .none: nil
            }
            let rosterHoldsCurrentKey = if case let .after(state, _) = base { state.roster[me.id]?.card.xwingKey.map { $0 == current } ?? false } else { false }
            stanzaShowsForgery = bundle.stanza(for: me.id).map {
                LockFileCheck.stanzaShowsForgery(kind: $0.kind, stanzaOpened: stanzaOpened, rosterHoldsCurrentKey: rosterHoldsCurrentKey)
            } ?? false
            let why = bundle.recipients.contains(me.id) ? "its stanza for this keyring does not open" : "it has no stanza for this keyring"
            return (judge(.sealed(bundle, why)), false)
        }
    }

    /// Judges each commit file (its bytes, room and epoch) as `judgeLockFile` does, all in one read of the keyring.
    func judgeLockFiles(_ files: [(bytes: [UInt8], room: StoredRoom, epoch: UInt64, own: [UInt8]?)],
                        me: borrowing LocalIdentity) throws -> [(verdict: LockFileCheck.Verdict, opened: Bool)] {
        guard !files.isEmpty else { return [] }
        return try read { db in try files.map { try judgeLockFile(db, $0.bytes, room: $0.room, epoch: $0.epoch, own: $0.own, me: me) } }
    }

    /// Opens `bundle`'s payload with whichever of this identity's key pairs its stanza needs.
    func open(_ bundle: Bundle, me: borrowing LocalIdentity) throws -> BundleContent {
        switch me.xwing {
        case .some(let xwing): try BundleContent(opening: bundle, recipient: me.id, keyPair: me.sealing, xwing: xwing)
        case .none: try BundleContent(opening: bundle, recipient: me.id, keyPair: me.sealing)
        }
    }

    /// Of the commit files of held epochs that arrived (`files`: path, epoch, room, bytes), the ones holding another
    /// commit than this keyring's, to be received (their fork check runs there); each is noted in `report.conflicts`.
    func conflictingCommits(_ files: [(path: String, room: StoredRoom, epoch: UInt64, bytes: [UInt8])], me: borrowing LocalIdentity,
                            report: inout SyncReport) throws -> [(path: String, bytes: [UInt8])] {
        guard !files.isEmpty else { return [] }
        let own = try ownCommitFiles()
        var result: [(path: String, bytes: [UInt8])] = []
        let others = files.filter { own[$0.path] != $0.bytes }
        for (file, (verdict, opened)) in zip(others, try judgeLockFiles(others.map { ($0.bytes, $0.room, $0.epoch, own[$0.path]) }, me: me)) {
            // An invalid file changes nothing here (the repair republishes over it); a different commit goes to receive.
            guard case let .keep(why) = verdict, opened else { continue }
            report.conflicts.append(SyncReport.LogNote(roomID: file.room.id, name: file.room.name, epoch: file.epoch, reason: why))
            result.append((file.path, file.bytes))
        }
        return result
    }

    /// This keyring's own commit bundles kept in the outbox, by their path on a remote.
    func ownCommitFiles() throws -> [String: [UInt8]] {
        var own: [String: [UInt8]] = [:]
        for item in try read({ db in try outboxRecords(db, withBundles: { $0.kind == "commit" }) }) {
            own[RemoteLayout.commitPath(room: item.record.roomID, epoch: item.record.epoch)] = item.bytes
        }
        return own
    }

    /// The commits of every epoch `rooms` hold (from the joined one on) whose file is missing from `tip` or fails a
    /// check that does not depend on the receiver, to publish: from `wanted` (this keyring's own bundles by path) or
    /// sealed again. A file that may be valid elsewhere is reported in `conflicts` and left alone. Files equal to this
    /// keyring's own bundle are known by blob id; a room whose log folder was found whole at the same tree, epoch and
    /// head before is skipped. `clean`: the rooms that needed nothing.
    func repairLogs(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: borrowing LocalIdentity, wanted: [String: [UInt8]],
                    skip: Set<String>, report: inout SyncReport) throws -> (adds: [(path: String, bytes: [UInt8])], clean: [RoomID]) {
        guard !rooms.isEmpty else { return ([], []) }
        let folders = rooms.map { RemoteLayout.logFolder($0.id.hex) }
        let log = try tip.map { try mirror.files(at: $0, under: folders, depth: 1) } ?? [:]
        let trees = try tip.map { try mirror.treeIDs(at: $0, folders) } ?? [:]
        var cache = LogCheckCache(folder: mirror.folder)
        var redo: [(room: StoredRoom, epoch: UInt64, why: String?)] = []
        var suspects: [(room: StoredRoom, epoch: UInt64, path: String, blob: String)] = []
        var keys: [RoomID: String] = [:]
        for room in rooms {
            let tree = trees[RemoteLayout.logFolder(room.id.hex)] ?? "none"
            keys[room.id] = "\(room.id.hex) \(tree) \(room.joinedEpoch) \(room.state.epoch) \(Hex.encode(room.state.head))"
            if cache.holds(room.id.hex, keys[room.id] ?? "") { continue }
            // A held epoch's commit never changes: since the last whole check (same joined epoch) only the files added
            // or changed, and those of epochs held since, need a look.
            let last = cache.whole(room.id.hex, joined: room.joinedEpoch)
            let folder = RemoteLayout.logFolder(room.id.hex)
            let changed = last.flatMap { old in try? mirror.changedFiles(fromTree: old.tree, toTree: tree) }.map { Set($0.map { folder + "/" + $0.path }) }
            for epoch in room.joinedEpoch...room.state.epoch {
                let path = RemoteLayout.commitPath(room: room.id.hex, epoch: epoch)
                if let blob = log[path] {
                    let fresh = changed.map { $0.contains(path) } ?? true || epoch > (last?.epoch ?? 0)
                    // A file this sync received and applied holds the stored commit: nothing to look at.
                    let accepted = report.acceptedCommitFiles[path] == blob
                    if !skip.contains(path) && fresh && !accepted { suspects.append((room, epoch, path, blob)) }
                } else {
                    redo.append((room, epoch, nil))
                }
            }
        }
        let own = suspects.compactMap { s in wanted[s.path].map { (s.path, $0) } }
        let ownIDs = Dictionary(zip(own.map(\.0), try mirror.blobIDs(of: own.map(\.1))), uniquingKeysWith: { a, _ in a })
        suspects.removeAll { ownIDs[$0.path] == $0.blob }
        var unsettled = Set<RoomID>()
        // Read and judged within the sync's byte budget at a time: a log of many large files (junk anyone with push
        // access can add) never sits in memory whole (a review measured 1.2 GB for five files of 200 MiB).
        try mirror.forEachBatch(Array(Set(suspects.map(\.blob))), limit: syncFileLimit, budget: syncByteBudget,
                                missingAreFiltered: !report.filterIgnored) { batch in
            let bytes = batch.bytes
            // A file larger than any bundle fails a check every receiver makes: written again, as any such file.
            for s in suspects where batch.oversized.contains(s.blob) { redo.append((s.room, s.epoch, "it is larger than any bundle")) }
            unsettled.formUnion(suspects.filter { batch.unreadable[$0.blob] != nil && !batch.oversized.contains($0.blob) }.map(\.room.id))
            let readable = suspects.compactMap { s in bytes[s.blob].map { (s, $0) } }
            let verdicts = try judgeLockFiles(readable.map { ($0.1, $0.0.room, $0.0.epoch, wanted[$0.0.path]) }, me: me)
            for ((s, found), (verdict, opened)) in zip(readable, verdicts) {
                switch verdict {
                case .expected: continue
                case let .replace(why): redo.append((s.room, s.epoch, why))
                case let .keep(why):
                    // This keyring's own bundle whose outbox entry expired cannot be opened here: nothing to say about it.
                    if !opened, (try? Bundle.parse(found))?.sender == me.id { continue }
                    // Nor a commit of an epoch this member was out of the room (removed, then added back): it has no
                    // stanza here by design (a review: a false conflict at every sync).
                    if !opened, try read({ db in try epochRoster(db, s.room.id, s.epoch)?[me.id] == nil }) { continue }
                    unsettled.insert(s.room.id)
                    if !report.conflicts.contains(where: { $0.roomID == s.room.id && $0.epoch == s.epoch }) {
                        report.conflicts.append(SyncReport.LogNote(roomID: s.room.id, name: s.room.name, epoch: s.epoch, reason: why))
                    }
                }
            }
        }
        var adds: [(path: String, bytes: [UInt8])] = []
        for (room, epoch, why) in redo {
            unsettled.insert(room.id)
            if tip != nil {
                if why == nil && epoch == room.state.epoch {
                    // A room's genesis with no file of the room on the remote is its first publish, not a remote behind
                    // (a review: every new room warned "remote is behind ... at epoch 0").
                    let folder = RemoteLayout.logFolder(room.id.hex) + "/"
                    if epoch > 0 || log.keys.contains(where: { $0.hasPrefix(folder) }) {
                        report.behind.append(SyncReport.Behind(roomID: room.id, name: room.name, epoch: epoch))
                    }
                } else {
                    report.repaired.append(SyncReport.LogNote(roomID: room.id, name: room.name, epoch: epoch, reason: why ?? "missing"))
                }
            }
            let path = RemoteLayout.commitPath(room: room.id.hex, epoch: epoch)
            // A path already being written (this keyring's outbox bundle, a flight) is only reported.
            if skip.contains(path) { continue }
            if let own = wanted[path] { adds.append((path, own)); continue }
            if let sealed = try read({ db in try resealedCommit(db, room: room, epoch: epoch, me: me) }) { adds.append((path, sealed)) }
        }
        let clean = rooms.map(\.id).filter { !unsettled.contains($0) }
        if tip != nil {
            for id in clean { cache.set(id.hex, keys[id] ?? "") }
            cache.save()
        }
        return (adds, clean)
    }
}

/// Rooms whose log folder was found whole, keyed by (room, tree, joined epoch, epoch, head): a file in the mirror,
/// `roomkey-checked-logs`. It only saves work: a lost or edited file makes the next sync check every room again.
struct LogCheckCache {
    let path: String
    var entries: [String: String] = [:]

    init(folder: String) {
        path = folder + "/roomkey-checked-logs"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            if let room = line.split(separator: " ").first { entries[String(room)] = String(line) }
        }
    }

    /// True when `room` was found whole under exactly `key`.
    func holds(_ room: String, _ key: String) -> Bool { entries[room] == key }

    /// The log tree and epoch of `room`'s last whole check, if it was made from the same joined epoch.
    func whole(_ room: String, joined: UInt64) -> (tree: String, epoch: UInt64)? {
        let fields = (entries[room] ?? "").split(separator: " ").map(String.init)
        guard fields.count == 5, fields[1] != "none", UInt64(fields[2]) == joined, let epoch = UInt64(fields[3]) else { return nil }
        return (fields[1], epoch)
    }

    /// Records that `room` was found whole under `key`.
    mutating func set(_ room: String, _ key: String) { entries[room] = key }

    /// Writes the file (atomically); a failure only costs a full check next time.
    func save() {
        try? Data(entries.values.sorted().joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
