import Foundation
import GRDB
import RoomKeyCore

/// `sync`'s receive step: list what the remote holds that this keyring has not received, read it within the sync's
/// byte budget, receive it as bundles and leave requests, and move the last-synced marker.
extension Keyring {
    /// A remote file to read: its path in the repository and its blob.
    typealias RemoteEntry = (path: String, blob: String)
    /// A commit file at an epoch its room holds already (received only when it holds another commit).
    typealias HeldEntry = (path: String, blob: String, room: StoredRoom, epoch: UInt64)

    /// Receives the bundles added or changed since the last sync (the whole tree on a first sync), skipping this
    /// member's own files and epochs it holds already; leave requests become staged removals. Then moves the marker.
    func receiveNew(_ mirror: GitMirror, tip: String?, remote: String, me: borrowing LocalIdentity, deliver: BundleDelivery,
                    report: inout SyncReport) throws {
        guard let tip else {
            // No `main` where an earlier sync saw one: the server lost or deleted it, which is a rewind (a review: sync
            // published everything again and said nothing).
            if try read({ db in try remoteRecord(db, remote) })?.lastSynced != nil { report.rewound = true }
            return
        }
        let known = try read { db in try allRooms(db) }
        let rooms = Dictionary(known.map { ($0.id.hex, $0) }, uniquingKeysWith: { a, _ in a })
        var skipped: [String]? = nil
        guard let listed = try newEntries(mirror, tip: tip, remote: remote, rooms: known, report: &report, skippedFolders: &skipped) else {
            // Nothing new on the remote, but the room may have moved here (a flight applied): kept leave requests again.
            report.received += try settleLeaveRequests([], me: me)
            return
        }
        let (entries, held) = Self.sortedForReceive(listed, rooms: rooms, me: me.id.hex)
        // Read as a stream within the sync's byte budget: a file too large or missing is malformed and never stops the
        // marker; files past the budget are left for the next sync, the marker moving past them with their paths kept.
        let waited = Set(try read { db in try remoteRecord(db, remote) }?.unread ?? [])
        let batch = try mirror.readBlobs(entries.map(\.blob) + held.map(\.blob), limit: syncFileLimit, budget: syncByteBudget,
                                         first: entries.filter { waited.contains($0.path) }.map(\.blob))
        let bytes = batch.bytes
        let later = (entries + held.map { ($0.path, $0.blob) }).filter { batch.deferred.contains($0.blob) }.map(\.path)
        report.deferred = later.count
        let conflicting = try conflictingCommits(held.compactMap { h in bytes[h.blob].map { (h.path, h.room, h.epoch, $0) } }, me: me,
                                                 report: &report)
        var bundles: [ReceiveInput] = conflicting.map { ReceiveInput(path: "\(remote):\($0.path)", bytes: $0.bytes) }
        var leaves: [(path: String, bytes: [UInt8])] = []
        // One file's bytes at many paths (anyone with push access can add names for one blob: a review made a member
        // open one bundle 100,000 times) are received once; every other path is a duplicate, opened by nothing. The
        // results of a blob's later paths are listed up to `listedRepeats` in all, then counted by status.
        var taken = Set<String>()
        var blobsSeen = Set<String>()
        var repeatsListed = 0
        for (path, blob) in entries {
            let repeated = !blobsSeen.insert(blob).inserted
            func note(_ result: ReceiveResult) {
                guard repeated else { return report.received.append(result) }
                guard repeatsListed < SyncReport.listedRepeats else { return report.unlisted[result.status, default: 0] += 1 }
                repeatsListed += 1
                report.received.append(result)
            }
            if let why = batch.unreadable[blob] {
                note(ReceiveResult(path: "\(remote):\(path)", status: .malformed, roomID: nil, epoch: nil, error: RemoteError.unreadableFile(why),
                                   bundles: []))
            }
            guard let data = bytes[blob] else { continue }
            // A file is received only from the path its header names (room, epoch, sender, the digest in its name; a
            // leave request only in `leave/`): the layout is one file per path, and a pusher could otherwise move
            // authenticated files into another room's folder or under another member's name (reviews). Before the
            // duplicate check: the same bytes at a wrong path must not make the right one a duplicate.
            if let entry = RemoteLayout.parse(path), let why = RemotePlacement.mismatch(entry, bytes: data) {
                let header = Bundle.headerFields(data)
                note(ReceiveResult(path: "\(remote):\(path)", status: .rejected, roomID: header?.roomID, epoch: header?.epoch,
                                   error: RemoteError.misplacedFile(room: entry.room, epoch: entry.epoch, why: why), bundles: []))
                continue
            }
            guard taken.insert(blob).inserted else {
                let header = Bundle.headerFields(data)
                note(ReceiveResult(path: "\(remote):\(path)", status: .duplicate, roomID: header?.roomID, epoch: header?.epoch, error: nil,
                                   bundles: []))
                continue
            }
            if LeaveRequest.looksLike(data) { leaves.append(("\(remote):\(path)", data)); continue }
            bundles.append(ReceiveInput(path: "\(remote):\(path)", bytes: data))
        }
        if !bundles.isEmpty {
            let results = try receive(bundles, deliver: deliver)
            report.received += results
            Self.noteReceived(results, entries: entries, remote: remote, rooms: rooms, report: &report)
        }
        report.received += try settleLeaveRequests(leaves, me: me)
        CrashPoint.reach(CrashPoint.beforeMarker)
        try write { db in try saveSyncMarker(db, remote: remote, tip: tip, unread: later, skipped: skipped ?? []) }
    }

    /// The files to look at in this sync: changed since the marker (the whole tree on a first sync or after a rewind),
    /// plus the next-epoch file of each room and the files an earlier sync left unread; nil when there is nothing new.
    private func newEntries(_ mirror: GitMirror, tip: String, remote: String, rooms: [StoredRoom],
                            report: inout SyncReport, skippedFolders: inout [String]?) throws -> [RemoteEntry]? {
        let record = try read { db in try remoteRecord(db, remote) }
        let marker = record?.lastSynced
        // The file holding each room's next epoch is received again at every sync, changed or not: a commit this
        // keyring could not apply before (its clock, or an earlier epoch the remote withheld then, after its pending
        // copy was let go) may apply now, and a staged change is then planned again. Normally there is none.
        let open = rooms.filter { !$0.left && !$0.forked }
        let next = open.map { RemoteLayout.commitPath(room: $0.id.hex, epoch: $0.state.epoch + 1) }
        var retry = next.isEmpty ? [:] : try mirror.files(at: tip, under: next)
        // A room whose next epoch is there may have later ones too (each applies once the one before has): those a
        // bundle may be ahead by (`BundleAcceptance.maxEpochsAhead`), so that one sync catches up that far. A member
        // removed at its next epoch reads that many small files again at each sync, never more.
        let behind = zip(open, next).filter { retry[$0.1] != nil }.map(\.0)
        let later = behind.flatMap { room in
            (2...BundleAcceptance<ReceiverStore>.maxEpochsAhead).filter { room.state.epoch <= UInt64.max - $0 }
                .map { RemoteLayout.commitPath(room: room.id.hex, epoch: room.state.epoch + $0) }
        }
        if !later.isEmpty { retry.merge(try mirror.files(at: tip, under: later)) { a, _ in a } }
        // Files left unread are read by the next sync, not by a later round of this one (its budget is spent).
        let unread = report.deferred == 0 ? (record?.unread ?? []) : []
        let setAside = record?.skippedFolders ?? []
        guard marker != tip || !retry.isEmpty || !unread.isEmpty || !setAside.isEmpty else { return nil }
        var entries: [RemoteEntry] = []
        if marker != tip || !setAside.isEmpty {
            let since = marker.flatMap { mirror.hasCommit($0) ? $0 : nil }
            if let since, !mirror.isAncestor(since, of: tip) { report.rewound = true }
            // Room folder by room folder, this keyring's rooms first: one folder too large to list is reported and
            // skipped, and every other room is read.
            let listing = try mirror.roomFiles(at: tip, since: since, first: Set(rooms.map(\.id.hex)),
                                               skipped: Set(setAside))
            entries = listing.files
            skippedFolders = listing.oversized.map { String($0.folder.dropFirst(RemoteLayout.root.count + 1)) }
            for (folder, reason) in listing.oversized {
                let (limit, bytes) = (mirror.walkFileLimit, mirror.listingLimit)
                let why = switch reason {
                case let .files(count) where count > limit: "the folder names more than \(limit) files"
                case let .files(count): "the folder names \(count) files, more than this sync had room for after the other rooms"
                case let .treeBytes(size) where size > bytes: "the folder's trees take more than \(bytes) bytes"
                case let .treeBytes(size): "the folder's trees take \(size) bytes, more than this sync had room for after the other rooms"
                case let .repeated(count): "the folder names \(count) files that another room's folder names too"
                }
                report.received.append(ReceiveResult(path: "\(remote):\(folder)", status: .malformed, roomID: nil, epoch: nil,
                                                     error: RemoteError.unreadableFile(why), bundles: []))
            }
        }
        // Files a staged change waits on, and files an earlier sync left unread (its byte budget ran out), as the tip
        // now holds them.
        var listed = Set(entries.map(\.path))
        entries += retry.filter { !listed.contains($0.key) }.map { ($0.key, $0.value) }
        listed = Set(entries.map(\.path))
        entries += try mirror.files(at: tip, under: unread.filter { !listed.contains($0) }).map { ($0.key, $0.value) }
        return entries
    }

    /// Drops this member's own files, files from before it joined and unknown paths; sets apart commit files at epochs
    /// a room holds already; the rest sorted by path (a room's epochs in order).
    private static func sortedForReceive(_ listed: [RemoteEntry], rooms: [String: StoredRoom],
                                         me mine: String) -> (entries: [RemoteEntry], held: [HeldEntry]) {
        var held: [HeldEntry] = []
        let entries = listed.filter { path, blob in
            guard let entry = RemoteLayout.parse(path) else { return false }
            switch entry.kind {
            case let .senderKey(sender, _): if sender == mine { return false }
            case let .leaveRequest(member): if member == mine { return false }
            case let .resent(sender, _): if sender == mine { return false }
            case .commit: break
            }
            guard let room = rooms[entry.room] else { return true }
            guard entry.epoch >= room.joinedEpoch else { return false }
            if entry.kind == .commit && entry.epoch <= room.state.epoch {
                if !room.left { held.append((path, blob, room, entry.epoch)) }
                return false
            }
            return true
        }.sorted { $0.path < $1.path }
        return (entries, held)
    }

    /// Records the commit files this sync applied (or held already), so the log check skips them, and the forks found.
    private static func noteReceived(_ results: [ReceiveResult], entries: [RemoteEntry], remote: String,
                                     rooms: [String: StoredRoom], report: inout SyncReport) {
        let blobs = Dictionary(entries.map { ($0.path, $0.blob) }, uniquingKeysWith: { a, _ in a })
        for result in results where result.status == .applied || result.status == .duplicate {
            let path = String(result.path.dropFirst(remote.count + 1))
            guard let blob = blobs[path], let entry = RemoteLayout.parse(path), entry.kind == .commit, result.epoch == entry.epoch
            else { continue }
            report.acceptedCommitFiles[path] = blob
        }
        // The next epoch's commit file, not for this keyring: a member left at its old epoch with no word (a review).
        for result in results where result.status == .notForMe {
            let path = String(result.path.dropFirst(remote.count + 1))
            guard let entry = RemoteLayout.parse(path), entry.kind == .commit, let room = rooms[entry.room], !room.left, !room.forked,
                  entry.epoch == room.state.epoch &+ 1, result.epoch == entry.epoch else { continue }
            // This identity's own commit, which never opens here: said as such (a review: a restored admin was told it had
            // been removed, while the remote was ahead of its backup).
            if result.ownBundle {
                report.ownAhead.append(SyncReport.LogNote(roomID: room.id, name: room.name, epoch: entry.epoch, reason: path))
            } else {
                report.leftOut.append(SyncReport.LogNote(roomID: room.id, name: room.name, epoch: entry.epoch, reason: path))
            }
        }
        for result in results {
            guard case let .fork(epoch, _, _)? = result.error as? LogError, let id = result.roomID, let room = rooms[id.hex] else { continue }
            report.forks.append(SyncReport.LogNote(roomID: id, name: room.name, epoch: epoch, reason: result.error?.message ?? "fork"))
        }
    }
}
