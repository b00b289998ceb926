import Foundation
import GRDB
import RoomKeyCore

extension CrashPoint {
    /// In `sync`, after a push went through and before the commits it published are applied here.
    static let afterPush = "after-push"
    /// In `sync`, after the remote's new bundles were received and before the last-synced marker moves.
    static let beforeMarker = "before-marker"
}

/// `sync`: delivery and ordering through a git remote (docs/PROTOCOL.md §9). Fetch; confirm staged commits the remote
/// took; receive only what arrived since the last sync; re-plan staged commits that lost their epoch; publish staged
/// commits and what the remote lacks from the outbox history; push; on a lost race, start over with jitter.
extension Keyring {
    /// How many lost push races one sync accepts before it stops with changes still staged.
    public static let maxSyncRaces = 12

    /// Syncs with the remote `requested` (default: the first added). The mirror lives in `stateFolder/remotes/NAME-HASH`
    /// (`GitMirror.folder`); one sync of this keyring runs at a time (`SyncLock`).
    public func sync(remote requested: String?, stateFolder: String, deliver: @escaping BundleDelivery,
                     maxRaces: Int = Keyring.maxSyncRaces) throws -> SyncReport {
        try automaticPrune()
        let me = try identity()
        let info: RemoteRecord = try read { db in
            if let requested {
                try RemoteAddress.validateName(requested)
                guard let record = try remoteRecord(db, requested) else { throw RemoteError.notFound(requested) }
                return record
            }
            guard let first = try remoteRecords(db).first else { throw RemoteError.noRemote }
            return first
        }
        try RemoteAddress.validateURL(info.url)
        let started = Date()
        // This keyring's lock, then the mirror's (two copies of one keyring share a mirror).
        let lock = try SyncLock(path: SyncLock.path(keyring: path))
        defer { lock.release() }
        let mirror = GitMirror(folder: GitMirror.folder(stateFolder: stateFolder, remote: info.name, identity: me.id.hex, url: info.url),
                               url: info.url)
        let mirrorLock = try SyncLock(path: GitMirror.lock(of: mirror.folder))
        defer { mirrorLock.release() }
        try mirror.prepare(started: started)
        var report = SyncReport(remote: info.name)
        var rounds = 0
        // Rooms whose commit files were checked in this sync and needed nothing (checked at most once per sync).
        var checked = Set<RoomID>()
        syncRounds: while true {
            rounds += 1
            let fetched = try mirror.fetch(fileLimit: syncFileLimit)
            let tip = fetched.tip
            report.tip = tip
            report.filterIgnored = report.filterIgnored || fetched.filterIgnored
            try confirmFlights(mirror, tip: tip, remote: info.name, me: me, deliver: deliver, report: &report)
            try receiveNew(mirror, tip: tip, remote: info.name, me: me, deliver: deliver, report: &report)
            let rooms = try roomsOn(remote: info.name)
            var adds = try stageFlights(mirror, tip: tip, rooms: rooms, me: me, report: &report)
            adds += try republish(mirror, tip: tip, rooms: rooms, me: me, taken: Set(adds.map(\.path)), checked: &checked,
                                  report: &report)
            let deletes = try expiredKeyFiles(mirror, tip: tip, rooms: rooms, me: me.id)
            if adds.isEmpty && deletes.isEmpty { break }
            let commit = try mirror.commit(parent: tip, add: adds, delete: deletes)
            switch try mirror.push(commit) {
            case .pushed:
                CrashPoint.reach(CrashPoint.afterPush)
                report.filesPushed += adds.count
                report.filesDeleted += deletes.count
                report.tip = commit
                // Everything up to the old tip was received above; what the push added is this keyring's own.
                try write { db in try saveSyncMarker(db, remote: info.name, tip: commit) }
                let before = report.published.count
                try confirmFlights(mirror, tip: commit, remote: info.name, me: me, deliver: deliver, report: &report)
                let owed = try rotateOwed(me: me, deliver: deliver)
                if report.published.count == before && !owed || rounds > maxRaces + 4 { break syncRounds }
            case .raced:
                report.races += 1
                if report.races >= maxRaces { break syncRounds }
                let jitter = UInt32.random(in: 10_000...60_000) * UInt32(min(report.races, 8))
                usleep(jitter)
            }
        }
        report.stillStaged = try read { db in try rooms(db, on: info.name).reduce(0) { $0 + (try stagedCount(db, room: $1.id)) } }
        report.forked = try read { db in try rooms(db, on: info.name).filter { try $0.forked && stagedCount(db, room: $0.id) > 0 } }
            .map { SyncReport.Rebased(roomID: $0.id, name: $0.name, epoch: $0.state.epoch) }
        return report
    }

    /// Removes a remote's local mirror (after `removeRemote`), waiting for a sync of this keyring to end first.
    public func removeMirror(_ remote: RemoteInfo, stateFolder: String) throws {
        try RemoteAddress.validateName(remote.name)
        let lock = try SyncLock(path: SyncLock.path(keyring: path))
        defer { lock.release() }
        let folder = GitMirror.folder(stateFolder: stateFolder, remote: remote.name, identity: try identity().id.hex, url: remote.url)
        let mirrorLock = try SyncLock(path: GitMirror.lock(of: folder))
        defer { mirrorLock.release() }
        if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
        try? FileManager.default.removeItem(atPath: GitMirror.lock(of: folder))
    }

    /// The rooms that use remote `name`.
    private func roomsOn(remote name: String) throws -> [StoredRoom] { try read { db in try rooms(db, on: name) } }

    private func rooms(_ db: Database, on name: String) throws -> [StoredRoom] {
        try allRooms(db).filter { try remoteName(db, room: $0.id) == name }
    }

    /// Applies every flight of a room on `remote` whose exact bundle the remote holds at its epoch's path.
    private func confirmFlights(_ mirror: GitMirror, tip: String?, remote: String, me: borrowing LocalIdentity, deliver: BundleDelivery,
                                report: inout SyncReport) throws {
        guard let tip else { return }
        let here = Set(try roomsOn(remote: remote).map(\.id.hex))
        let all = try read { db in try flights(db) }.filter { here.contains($0.roomID) }
        guard !all.isEmpty else { return }
        let held = try remoteFiles(mirror, tip: tip, flights: all).files
        for flight in all where held[flight.roomID] == .ours {
            if let done = try write({ db in try applyFlight(db, flight, me: me, deliver: deliver) }) { report.published.append(done) }
        }
    }

    /// What the remote holds at each flight's path, by room id (`other` not yet judged), with the bytes of other files.
    private func remoteFiles(_ mirror: GitMirror, tip: String?,
                             flights: [FlightRecord]) throws -> (files: [String: StagedPublication.RemoteFile], others: [String: [UInt8]]) {
        guard let tip else { return (Dictionary(flights.map { ($0.roomID, .absent) }, uniquingKeysWith: { a, _ in a }), [:]) }
        let paths = flights.map { RemoteLayout.commitPath(room: $0.roomID, epoch: $0.epoch) }
        let files = try mirror.files(at: tip, under: paths)
        let bytes = try mirror.readBlobs(Array(Set(files.values)), limit: syncFileLimit, budget: Int.max).bytes
        var result: [String: StagedPublication.RemoteFile] = [:]
        var others: [String: [UInt8]] = [:]
        for (flight, path) in zip(flights, paths) {
            guard let blob = files[path] else { result[flight.roomID] = .absent; continue }
            guard let found = bytes[blob] else { result[flight.roomID] = .other("it could not be read"); continue }
            if found == Array(flight.bundle) { result[flight.roomID] = .ours; continue }
            result[flight.roomID] = .other("another file")
            others[flight.roomID] = found
        }
        return (result, others)
    }

    /// Judges another file at a flight's path: `invalid` (it may be replaced) or why this keyring cannot apply it.
    private func judgeFlightPath(_ bytes: [UInt8], flight: FlightRecord, me: borrowing LocalIdentity) throws -> StagedPublication.RemoteFile {
        guard let id = try? RoomID(bytes: Hex.decode(flight.roomID, what: "room id")) else { return .other("a bad room id") }
        let verdict = try read { db -> LockFileCheck.Verdict in
            guard let room = try loadRoom(db, id) else { return .keep("the room is not held here") }
            return try judgeLockFile(db, bytes, room: room, epoch: flight.epoch, me: me).verdict
        }
        switch verdict {
        case .replace: return .invalid
        case .expected: return .other("it holds this keyring's commit of that epoch")
        case let .keep(why): return .other(why)
        }
    }

    /// Receives the bundles added or changed since the last sync (the whole tree on a first sync), skipping this
    /// member's own files and epochs it holds already; leave requests become staged removals. Then moves the marker.
    private func receiveNew(_ mirror: GitMirror, tip: String?, remote: String, me: borrowing LocalIdentity, deliver: BundleDelivery,
                            report: inout SyncReport) throws {
        guard let tip else { return }
        let (marker, leftUnread) = try read { db in (try remoteRecord(db, remote)?.lastSynced, try remoteRecord(db, remote)?.unread ?? []) }
        let known = try read { db in try allRooms(db) }
        let rooms = Dictionary(known.map { ($0.id.hex, $0) }, uniquingKeysWith: { a, _ in a })
        // While a change is staged, the file holding its epoch is received again at every sync, changed or not: a
        // commit this keyring could not apply before (its clock) may apply now, and the change is then planned again.
        let staged = Set(try read { db in try stagedRoomTags(db) }.map(Hex.encode))
        let next = known.filter { !$0.left && !$0.forked && staged.contains(Hex.encode(roomTag($0.id))) }
            .map { RemoteLayout.commitPath(room: $0.id.hex, epoch: $0.state.epoch + 1) }
        let retry = next.isEmpty ? [:] : try mirror.files(at: tip, under: next)
        // Files left unread are read by the next sync, not by a later round of this one (its budget is spent).
        let unread = report.deferred == 0 ? leftUnread : []
        guard marker != tip || !retry.isEmpty || !unread.isEmpty else {
            // Nothing new on the remote, but the room may have moved here (a flight applied): kept leave requests again.
            report.received += try settleLeaveRequests([], me: me)
            return
        }
        var entries: [(path: String, blob: String)] = []
        if let marker, marker == tip {
            entries = []
        } else if let marker, mirror.hasCommit(marker) {
            if !mirror.isAncestor(marker, of: tip) { report.rewound = true }
            entries = try mirror.changedFiles(from: marker, to: tip)
        } else {
            entries = try mirror.files(at: tip).map { ($0.key, $0.value) }
        }
        // Files a staged change waits on, and files an earlier sync left unread (its byte budget ran out), as the tip
        // now holds them.
        var listed = Set(entries.map(\.path))
        entries += retry.filter { !listed.contains($0.key) }.map { ($0.key, $0.value) }
        listed = Set(entries.map(\.path))
        entries += try mirror.files(at: tip, under: unread.filter { !listed.contains($0) }).map { ($0.key, $0.value) }
        let mine = me.id.hex
        // Commit files of epochs a room holds already are received only when they hold another commit (see below).
        var held: [(path: String, blob: String, room: StoredRoom, epoch: UInt64)] = []
        entries = entries.filter { path, blob in
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
        // Read as a stream within the sync's byte budget: a file too large or missing is malformed and never stops the
        // marker; files past the budget are left for the next sync, the marker moving past them with their paths kept.
        let batch = try mirror.readBlobs(entries.map(\.blob) + held.map(\.blob), limit: syncFileLimit, budget: syncByteBudget)
        let bytes = batch.bytes
        let later = (entries.map { ($0.path, $0.blob) } + held.map { ($0.path, $0.blob) }).filter { batch.deferred.contains($0.1) }.map(\.0)
        report.deferred = later.count
        let conflicting = try conflictingCommits(held.compactMap { h in bytes[h.blob].map { (h.path, h.room, h.epoch, $0) } }, me: me,
                                                 report: &report)
        var bundles: [ReceiveInput] = conflicting.map { ReceiveInput(path: "\(remote):\($0.path)", bytes: $0.bytes) }
        var leaves: [(String, [UInt8])] = []
        for (path, blob) in entries {
            if let why = batch.unreadable[blob] {
                report.received.append(ReceiveResult(path: "\(remote):\(path)", status: .malformed, roomID: nil, epoch: nil,
                                                     error: RemoteError.unreadableFile(why), bundles: []))
            }
            guard let data = bytes[blob] else { continue }
            if LeaveRequest.looksLike(data) { leaves.append(("\(remote):\(path)", data)) } else { bundles.append(ReceiveInput(path: "\(remote):\(path)", bytes: data)) }
        }
        if !bundles.isEmpty {
            let results = try receive(bundles, deliver: deliver)
            report.received += results
            let blobs = Dictionary(entries.map { ($0.path, $0.blob) }, uniquingKeysWith: { a, _ in a })
            for result in results where result.status == .applied || result.status == .duplicate {
                let path = String(result.path.dropFirst(remote.count + 1))
                guard let blob = blobs[path], let entry = RemoteLayout.parse(path), entry.kind == .commit, result.epoch == entry.epoch
                else { continue }
                report.acceptedCommitFiles[path] = blob
            }
            for result in results {
                guard case let .fork(epoch, _, _)? = result.error as? LogError, let id = result.roomID, let room = rooms[id.hex] else { continue }
                report.forks.append(SyncReport.LogNote(roomID: id, name: room.name, epoch: epoch, reason: result.error?.message ?? "fork"))
            }
        }
        report.received += try settleLeaveRequests(leaves.map { (path: $0.0, bytes: $0.1) }, me: me)
        CrashPoint.reach(CrashPoint.beforeMarker)
        try write { db in try saveSyncMarker(db, remote: remote, tip: tip, unread: later) }
    }

    /// Decides each staged room's flight against the remote (push it, replace an invalid file, re-plan after losing the
    /// epoch, or keep it staged when the epoch holds a commit this keyring cannot apply) and builds flights for staged
    /// intents; returns the files to push.
    private func stageFlights(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: borrowing LocalIdentity,
                              report: inout SyncReport) throws -> [(path: String, bytes: [UInt8])] {
        let staged = Set(try read { db in try stagedRoomTags(db) }.map(Hex.encode))
        let candidates = rooms.filter { staged.contains(Hex.encode(roomTag($0.id))) }
        guard !candidates.isEmpty else { return [] }
        var ready: [FlightRecord] = []
        for candidate in candidates {
            let (toPublish, dropped, lost) = try write { db -> (FlightRecord?, [DroppedChange], UInt64?) in
                guard let room = try loadRoom(db, candidate.id) else { return (nil, [], nil) }
                var lost: UInt64?
                if let flight = try flight(db, room: room.id), let previous = try? Hex.decode(flight.previousHead, what: "head") {
                    let verdict = StagedPublication.decide(epoch: flight.epoch, previousHead: previous, roomEpoch: room.state.epoch,
                                                           roomHead: room.state.head, remote: .absent)
                    guard verdict == .superseded else { return (flight, [], nil) }
                    try deleteFlight(db, room: room.id)
                    lost = flight.epoch
                }
                let (built, dropped) = try buildFlight(db, room: room, me: me)
                return (built, dropped, lost)
            }
            if let lost { report.rebased.append(SyncReport.Rebased(roomID: candidate.id, name: candidate.name, epoch: lost)) }
            report.dropped += dropped
            if let toPublish { ready.append(toPublish) }
        }
        // Only now look at each flight's path: a flight built just above may find it taken too.
        let (held, others) = try remoteFiles(mirror, tip: tip, flights: ready)
        var adds: [(path: String, bytes: [UInt8])] = []
        for flight in ready {
            var remote = held[flight.roomID] ?? .absent
            if let bytes = others[flight.roomID] { remote = try judgeFlightPath(bytes, flight: flight, me: me) }
            guard let id = try? RoomID(bytes: Hex.decode(flight.roomID, what: "room id")), let previous = try? Hex.decode(flight.previousHead, what: "head"),
                  let room = try read({ db in try loadRoom(db, id) }) else { continue }
            let verdict = StagedPublication.decide(epoch: flight.epoch, previousHead: previous, roomEpoch: room.state.epoch,
                                                   roomHead: room.state.head, remote: remote)
            switch verdict {
            case .push, .replace, .published: adds.append((RemoteLayout.commitPath(room: flight.roomID, epoch: flight.epoch), Array(flight.bundle)))
            case let .blocked(why):
                report.blocked.append(SyncReport.LogNote(roomID: room.id, name: room.name, epoch: flight.epoch, reason: why))
            case .superseded: continue
            }
        }
        return adds
    }

    /// Makes the sender keys this member owes (after its published commits); true when it made any.
    private func rotateOwed(me: borrowing LocalIdentity, deliver: BundleDelivery) throws -> Bool {
        let owed = try owedRotations()
        guard !owed.isEmpty else { return false }
        let rooms = try read { db in try owed.compactMap { try loadRoom(db, tag: $0) } }
        var blocked: [RoomID: any RoomKeyError] = [:]
        let made = try rotateDueRooms(Dictionary(rooms.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }), me: me, deliver: deliver,
                                      blocked: &blocked)
        return !made.isEmpty
    }
}
