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
            adds += try republish(mirror, tip: tip, rooms: rooms, me: me, taken: Set(adds.map(\.path)), report: &report)
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
        let held = try remoteFiles(mirror, tip: tip, flights: all)
        for flight in all where held[flight.roomID] == .ours {
            if let done = try write({ db in try applyFlight(db, flight, me: me, deliver: deliver) }) { report.published.append(done) }
        }
    }

    /// What the remote holds at each flight's path, by room id.
    private func remoteFiles(_ mirror: GitMirror, tip: String?, flights: [FlightRecord]) throws -> [String: StagedPublication.RemoteFile] {
        guard let tip else { return Dictionary(flights.map { ($0.roomID, .absent) }, uniquingKeysWith: { a, _ in a }) }
        let paths = flights.map { RemoteLayout.commitPath(room: $0.roomID, epoch: $0.epoch) }
        let files = try mirror.files(at: tip, under: paths)
        let bytes = try mirror.readBlobs(Array(Set(files.values)), limit: syncFileLimit, budget: Int.max).bytes
        var result: [String: StagedPublication.RemoteFile] = [:]
        for (flight, path) in zip(flights, paths) {
            guard let blob = files[path] else { result[flight.roomID] = .absent; continue }
            result[flight.roomID] = bytes[blob] == Array(flight.bundle) ? .ours : .other
        }
        return result
    }

    /// Receives the bundles added or changed since the last sync (the whole tree on a first sync), skipping this
    /// member's own files and epochs it holds already; leave requests become staged removals. Then moves the marker.
    private func receiveNew(_ mirror: GitMirror, tip: String?, remote: String, me: borrowing LocalIdentity, deliver: BundleDelivery,
                            report: inout SyncReport) throws {
        guard let tip else { return }
        let (marker, unread) = try read { db in (try remoteRecord(db, remote)?.lastSynced, try remoteRecord(db, remote)?.unread ?? []) }
        // Files left unread are read by the next sync, not by a later round of this one (its budget is spent).
        guard marker != tip || !unread.isEmpty && report.deferred == 0 else { return }
        var entries: [(path: String, blob: String)]
        if let marker, mirror.hasCommit(marker) {
            if !mirror.isAncestor(marker, of: tip) { report.rewound = true }
            entries = try mirror.changedFiles(from: marker, to: tip)
        } else {
            entries = try mirror.files(at: tip).map { ($0.key, $0.value) }
        }
        // Files an earlier sync left unread (its byte budget ran out), as the tip now holds them.
        let listed = Set(entries.map(\.path))
        entries += try mirror.files(at: tip, under: unread.filter { !listed.contains($0) }).map { ($0.key, $0.value) }
        let held = try read { db in try allRooms(db) }
        let rooms = Dictionary(held.map { ($0.id.hex, $0) }, uniquingKeysWith: { a, _ in a })
        let mine = me.id.hex
        entries = entries.filter { path, _ in
            guard let entry = RemoteLayout.parse(path) else { return false }
            switch entry.kind {
            case let .senderKey(sender, _): if sender == mine { return false }
            case let .leaveRequest(member): if member == mine { return false }
            case let .resent(sender, _): if sender == mine { return false }
            case .commit: break
            }
            guard let room = rooms[entry.room] else { return true }
            if entry.kind == .commit && entry.epoch <= room.state.epoch { return false }
            return entry.epoch >= room.joinedEpoch
        }.sorted { $0.path < $1.path }
        // Read as a stream within the sync's byte budget: a file too large or missing is malformed and never stops the
        // marker; files past the budget are left for the next sync, the marker moving past them with their paths kept.
        let batch = try mirror.readBlobs(entries.map(\.blob), limit: syncFileLimit, budget: syncByteBudget)
        let bytes = batch.bytes
        let later = entries.filter { batch.deferred.contains($0.blob) }.map(\.path)
        report.deferred = later.count
        var bundles: [ReceiveInput] = []
        var leaves: [(String, [UInt8])] = []
        for (path, blob) in entries {
            if let why = batch.unreadable[blob] {
                report.received.append(ReceiveResult(path: "\(remote):\(path)", status: .malformed, roomID: nil, epoch: nil,
                                                     error: RemoteError.unreadableFile(why), bundles: []))
            }
            guard let data = bytes[blob] else { continue }
            if LeaveRequest.looksLike(data) { leaves.append(("\(remote):\(path)", data)) } else { bundles.append(ReceiveInput(path: "\(remote):\(path)", bytes: data)) }
        }
        if !bundles.isEmpty { report.received += try receive(bundles, deliver: deliver) }
        for (path, data) in leaves {
            do {
                report.received.append(try stageLeaveRequest(try LeaveRequest.parse(data), path: path, me: me))
            } catch let error as WireError {
                report.received.append(ReceiveResult(path: path, status: .malformed, roomID: nil, epoch: nil, error: error, bundles: []))
            }
        }
        CrashPoint.reach(CrashPoint.beforeMarker)
        try write { db in try saveSyncMarker(db, remote: remote, tip: tip, unread: later) }
    }

    /// Decides each staged room's flight against the remote (push it, replace a refused file, or re-plan after losing
    /// the epoch) and builds flights for staged intents; returns the files to push.
    private func stageFlights(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: borrowing LocalIdentity,
                              report: inout SyncReport) throws -> [(path: String, bytes: [UInt8])] {
        let staged = Set(try read { db in try stagedRoomTags(db) }.map(Hex.encode))
        let candidates = rooms.filter { staged.contains(Hex.encode(roomTag($0.id))) }
        guard !candidates.isEmpty else { return [] }
        let held = try remoteFiles(mirror, tip: tip, flights: try read { db in try flights(db) })
        var adds: [(path: String, bytes: [UInt8])] = []
        for candidate in candidates {
            let (files, dropped, lost) = try write { db -> ([(path: String, bytes: [UInt8])], [DroppedChange], UInt64?) in
                guard let room = try loadRoom(db, candidate.id) else { return ([], [], nil) }
                var lost: UInt64?
                if let flight = try flight(db, room: room.id), let previous = try? Hex.decode(flight.previousHead, what: "head") {
                    let verdict = StagedPublication.decide(epoch: flight.epoch, previousHead: previous, roomEpoch: room.state.epoch,
                                                           roomHead: room.state.head, remote: held[flight.roomID] ?? .absent)
                    switch verdict {
                    case .push, .replace, .published:
                        return ([(RemoteLayout.commitPath(room: flight.roomID, epoch: flight.epoch), Array(flight.bundle))], [], nil)
                    case .superseded:
                        try deleteFlight(db, room: room.id)
                        lost = flight.epoch
                    }
                }
                let (built, dropped) = try buildFlight(db, room: room, me: me)
                let files = built.map { [(RemoteLayout.commitPath(room: $0.roomID, epoch: $0.epoch), Array($0.bundle))] } ?? []
                return (files, dropped, lost)
            }
            if let lost { report.rebased.append(SyncReport.Rebased(roomID: candidate.id, name: candidate.name, epoch: lost)) }
            report.dropped += dropped
            adds += files
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
