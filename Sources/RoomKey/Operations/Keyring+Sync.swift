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
        // After the remote is known: a sync of a remote that is not there leaves the keyring as it was (a review).
        try automaticPrune()
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
            var rooms = try roomsOn(remote: info.name)
            try settleRestoredRooms(mirror, tip: tip, rooms: &rooms)
            var adds = try stageFlights(mirror, tip: tip, rooms: rooms, me: me, report: &report)
            adds += try republish(mirror, tip: tip, rooms: rooms, me: me, taken: Set(adds.map(\.path)), checked: &checked,
                                  report: &report)
            let deletes = try expiredKeyFiles(mirror, tip: tip, rooms: rooms, me: me.id)
                + withdrawnLeaveFiles(mirror, tip: tip, rooms: rooms, me: me.id)
            if adds.isEmpty && deletes.isEmpty {
                // A flight confirmed in this round (a sync killed after its push, run again) owes this keyring's new
                // sender key: made now, and published by the next round (PROTOCOL §9.3 step 6; a review found the
                // recovering sync stopped here, and members could not read the admin's messages of the new epoch).
                if rounds <= maxRaces + 4, try rotateOwed(me: me, deliver: deliver) { continue }
                break
            }
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
    func roomsOn(remote name: String) throws -> [StoredRoom] { try read { db in try rooms(db, on: name) } }

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

    /// What the remote holds at each flight's path, by room id; another file is judged by `judge` as soon as it is
    /// read (by default `other`), so no file is kept beyond its batch: the files are read within the sync's byte
    /// budget at a time, and junk at many flight paths never sits in memory at once (a review measured 300 MB a file).
    /// A file larger than any bundle (its size known, or left out by a size filter the server applied: `missingAreFiltered`)
    /// fails a check every receiver makes, so it is `invalid` (a review: one file over 256 MiB at the next epoch's path,
    /// "could not be read", blocked every admin's commit at every sync).
    private func remoteFiles(_ mirror: GitMirror, tip: String?, flights: [FlightRecord], missingAreFiltered: Bool = false,
                             judge: (FlightRecord, [UInt8]) throws -> StagedPublication.RemoteFile = { _, _ in .other("another file") })
        throws -> [String: StagedPublication.RemoteFile] {
        guard let tip else { return Dictionary(flights.map { ($0.roomID, .absent) }, uniquingKeysWith: { a, _ in a }) }
        let paths = flights.map { RemoteLayout.commitPath(room: $0.roomID, epoch: $0.epoch) }
        let files = try mirror.files(at: tip, under: paths)
        var result: [String: StagedPublication.RemoteFile] = [:]
        for (flight, path) in zip(flights, paths) where files[path] == nil { result[flight.roomID] = .absent }
        try mirror.forEachBatch(Array(Set(files.values)), limit: syncFileLimit, budget: syncByteBudget, missingAreFiltered: missingAreFiltered) { batch in
            for (flight, path) in zip(flights, paths) {
                guard let blob = files[path], result[flight.roomID] == nil, !batch.deferred.contains(blob) else { continue }
                guard let found = batch.bytes[blob] else {
                    result[flight.roomID] = batch.oversized.contains(blob) ? .invalid : .other("it could not be read")
                    continue
                }
                if found == Array(flight.bundle) { result[flight.roomID] = .ours; continue }
                result[flight.roomID] = try judge(flight, found)
            }
        }
        return result
    }

    /// Judges another file at a flight's path: `invalid` (it may be replaced) or why this keyring cannot apply it.
    /// `restored`: the rooms where a file naming this keyring as its sender may be its own (`othersAhead`).
    private func judgeFlightPath(_ bytes: [UInt8], flight: FlightRecord, restored: Set<String>,
                                 me: borrowing LocalIdentity) throws -> StagedPublication.RemoteFile {
        guard let id = try? RoomID(bytes: Hex.decode(flight.roomID, what: "room id")) else { return .other("a bad room id") }
        let verdict = try read { db -> LockFileCheck.Verdict in
            guard let room = try loadRoom(db, id) else { return .keep("the room is not held here") }
            return try judgeLockFile(db, bytes, room: room, epoch: flight.epoch, own: Array(flight.bundle),
                                     restored: restored.contains(flight.roomID), me: me).verdict
        }
        switch verdict {
        case .replace: return .invalid
        case .expected: return .other("it holds this keyring's commit of that epoch")
        case let .keep(why): return .other(why)
        }
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
            let planned: (FlightRecord?, [DroppedChange], UInt64?)
            do {
                planned = try write { db -> (FlightRecord?, [DroppedChange], UInt64?) in
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
            } catch let refusal as any RoomKeyError where refusal.category == .refused {
                // A change the rules refuse now (a member on a version 1 card under --require-pq turned on after it was
                // staged) stays staged and is reported; the other rooms go on (it stopped every room's sync, a review).
                let note = SyncReport.LogNote(roomID: candidate.id, name: candidate.name, epoch: candidate.state.epoch + 1, reason: refusal.message)
                if !report.refused.contains(note) { report.refused.append(note) }
                continue
            }
            let (toPublish, dropped, lost) = planned
            if let lost { report.rebased.append(SyncReport.Rebased(roomID: candidate.id, name: candidate.name, epoch: lost)) }
            report.dropped += dropped
            if let toPublish { ready.append(toPublish) }
        }
        // Only now look at each flight's path: a flight built just above may find it taken too.
        let restored = try othersAhead(mirror, tip: tip, rooms: candidates.filter(\.restoredBehind), me: me)
        let held = try remoteFiles(mirror, tip: tip, flights: ready, missingAreFiltered: !report.filterIgnored) { flight, bytes in
            try self.judgeFlightPath(bytes, flight: flight, restored: restored, me: me)
        }
        var adds: [(path: String, bytes: [UInt8])] = []
        for flight in ready {
            let remote = held[flight.roomID] ?? .absent
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
