import Foundation
import GRDB
import RoomKeyCore

/// What sync writes to and removes from the remote besides staged commits: this keyring's bundles the remote lacks
/// (a rewind, a deleted file, a room older than the remote) and, for admins, sender keys past the retention window.
extension Keyring {
    /// Files the remote should hold and does not: this keyring's bundles from the outbox history (commits of any epoch,
    /// sender keys, leave requests and re-sent bundles of the current epoch), and, once per sync for each room not in
    /// `checked`, every held epoch's commit whose file is missing or invalid (`repairLogs`).
    func republish(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: borrowing LocalIdentity, taken: Set<String>,
                   checked: inout Set<RoomID>, report: inout SyncReport) throws -> [(path: String, bytes: [UInt8])] {
        let byID = Dictionary(rooms.map { ($0.id.hex, $0) }, uniquingKeysWith: { a, _ in a })
        let mine = me.id.hex
        var wanted: [String: [UInt8]] = [:]
        for item in try read({ db in try outboxRecords(db, withBundles: { byID[$0.roomID] != nil }) }) {
            let r = item.record, bytes = item.bytes
            guard let room = byID[r.roomID] else { continue }
            // Under `--require-pq` this member's own key files that went out with a version 1 stanza are not offered
            // again: a new key is due (`owesNewGeneration`), and its bundle is sealed under the requirement.
            if room.requirePQ, r.kind == "sender-key" || r.kind == "resend", Self.hasVersion1Stanza(bytes) { continue }
            let digest = RemotePlacement.digest(bytes)
            let path: String
            switch r.kind {
            case "commit": path = RemoteLayout.commitPath(room: r.roomID, epoch: r.epoch)
            case "sender-key" where r.epoch == room.state.epoch && !room.left:
                path = RemoteLayout.senderKeyPath(room: r.roomID, epoch: r.epoch, sender: mine, generation: r.generation.map(String.init) ?? "x" + digest)
            // While the room is left and this member still in its roster, whatever epoch the room followed since (a
            // review: a commit received before the next sync moved the room past the request, which never went out).
            case "leave-request" where room.left && room.state.roster[me.id] != nil:
                path = RemoteLayout.leavePath(room: r.roomID, member: mine, epoch: r.epoch)
            case "resend" where r.epoch == room.state.epoch:
                path = RemoteLayout.resentPath(room: r.roomID, epoch: r.epoch, sender: mine, digest: digest)
            default: continue
            }
            if !taken.contains(path), wanted[path] == nil { wanted[path] = bytes }
        }
        let present = tip == nil ? [:] : try mirror.files(at: tip ?? "", under: Array(wanted.keys))
        var adds = wanted.filter { present[$0.key] == nil }.map { (path: $0.key, bytes: $0.value) }
        adds += try reclaimed(mirror, wanted: wanted, present: present, rooms: byID, me: me.card, report: &report)
        let unchecked = rooms.filter { !$0.left && !checked.contains($0.id) }
        let repair = try repairLogs(mirror, tip: tip, rooms: unchecked, me: me, wanted: wanted,
                                    skip: taken.union(adds.map(\.path)), report: &report)
        adds += repair.adds
        checked.formUnion(repair.clean)
        return adds.sorted { $0.path < $1.path }
    }

    /// This member's own files (sender keys, leave requests, re-sent bundles: paths named by its id, which only it
    /// writes) that the tip holds with other bytes, compared by git blob id: they are written again and reported in
    /// `replaced`. Their names are predictable, so a member who can push could otherwise take them first and keep this
    /// member's keys from everyone, while sync skipped the path as published. Commit files are left to `repairLogs`.
    private func reclaimed(_ mirror: GitMirror, wanted: [String: [UInt8]], present: [String: String], rooms: [String: StoredRoom],
                           me: IdentityCard, report: inout SyncReport) throws -> [(path: String, bytes: [UInt8])] {
        let held = wanted.filter { entry in
            guard present[entry.key] != nil, let file = RemoteLayout.parse(entry.key) else { return false }
            if case .commit = file.kind { return false }
            return true
        }.sorted { $0.key < $1.key }
        if held.isEmpty { return [] }
        let ids = try mirror.blobIDs(of: held.map(\.value))
        var out: [(path: String, bytes: [UInt8])] = []
        var replaced: [(path: String, blob: String)] = []
        for ((path, bytes), id) in zip(held, ids) where present[path] != id {
            out.append((path: path, bytes: bytes))
            if let blob = present[path] { replaced.append((path, blob)) }
        }
        let own = try ownEarlierLeaveRequests(mirror, replaced, me: me)
        for (path, _) in replaced where !own.contains(path) {
            guard let file = RemoteLayout.parse(path), let room = rooms[file.room] else { continue }
            report.replaced.append(SyncReport.LogNote(roomID: room.id, name: room.name, epoch: file.epoch, reason: path))
        }
        return out
    }

    /// Of the replaced files, the leave-request paths whose file is this member's own earlier request for that room and
    /// epoch (signed by it: withdrawn with `room rejoin`, then made again by a new `room leave` at the same epoch). Those
    /// are written over without the warning, which is for other bytes than this member's (review s: a false tamper
    /// warning). Only files of a request's exact length are read.
    private func ownEarlierLeaveRequests(_ mirror: GitMirror, _ replaced: [(path: String, blob: String)], me: IdentityCard) throws -> Set<String> {
        let leaves = replaced.compactMap { file -> (path: String, blob: String, entry: RemoteLayout.Entry)? in
            guard let entry = RemoteLayout.parse(file.path), entry.kind == .leaveRequest(member: me.id.hex) else { return nil }
            return (file.path, file.blob, entry)
        }
        if leaves.isEmpty { return [] }
        let batch = try mirror.readBlobs(leaves.map(\.blob), limit: LeaveRequest.length, budget: LeaveRequest.length * leaves.count)
        var own = Set<String>()
        for (path, blob, entry) in leaves {
            guard let bytes = batch.bytes[blob], RemotePlacement.mismatch(entry, bytes: bytes) == nil,
                  let request = try? LeaveRequest.parse(bytes), (try? request.verify(me.signingKey)) != nil else { continue }
            own.insert(path)
        }
        return own
    }

    /// A new bundle from this member carrying the commit of `epoch` (the whole log through it if it added members),
    /// sealed to that epoch's roster; nil when this member was not in it.
    func resealedCommit(_ db: Database, room: StoredRoom, epoch: UInt64, me: borrowing LocalIdentity) throws -> [UInt8]? {
        guard let commit = try storedCommit(db, room.id, epoch), let roster = try epochRoster(db, room.id, epoch), roster[me.id] != nil else { return nil }
        let adds = epoch == 0 || commit.operations.contains { if case .add = $0 { true } else { false } }
        let commits = adds ? try storedLog(db, room.id, through: epoch) : [commit]
        var atEpoch = room
        atEpoch.state = RoomState(at: commit, name: room.name, roster: roster)
        return try makeBundle(db, room: atEpoch, commits: commits, me: me, withKey: false).bytes
    }

    /// This member's own leave requests on the remote for rooms it has not left (it rejoined since): `room rejoin`
    /// withdraws the request from the outbox, but a sync that ran between may have published it, and an admin's next
    /// sync removed the member who had rejoined (a review). Deleted from the branch tip like an expired key file.
    func withdrawnLeaveFiles(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: IdentityID) throws -> [String] {
        guard let tip else { return [] }
        let kept = rooms.filter { !$0.left && $0.state.roster[me] != nil }
        if kept.isEmpty { return [] }
        let folders = kept.map { RemoteLayout.roomFolder($0.id.hex) + "/leave" }
        let files: [String: String]
        do { files = try mirror.files(at: tip, under: folders, depth: 1) } catch RemoteError.treeTooLarge { return [] }
        // Only what the layout names as this member's request (`ID-EPOCH.roomkey`): a name that is not UTF-8, read with
        // its bad bytes replaced, never matched the tree's entry, and every sync pushed a commit that deleted nothing.
        return files.keys.filter { RemoteLayout.parse($0)?.kind == .leaveRequest(member: me.hex) }.sorted()
    }

    /// Sender-key files, and files written again (`resent/`), of epochs past the retention window, for an admin to delete
    /// from the branch tip (resent files were never deleted, and each `--with-commit` resend is a new one: a review).
    func expiredKeyFiles(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: IdentityID) throws -> [String] {
        guard let tip else { return [] }
        let administered = rooms.filter { $0.state.roster[me]?.admin == true && $0.state.epoch > 0 }
        if administered.isEmpty { return [] }
        // One listing of every administered room's key folder (git runs once per 500 rooms, not once per room).
        // A key folder too large to list (a tree bomb put there) deletes nothing this time, and stops nothing else.
        let files: [String: String]
        let folders = administered.flatMap { [RemoteLayout.keysFolder($0.id.hex), RemoteLayout.resentFolder($0.id.hex)] }
        do { files = try mirror.files(at: tip, under: folders, depth: 2) } catch RemoteError.treeTooLarge {
            return []
        }
        let byRoom = Dictionary(grouping: files.keys) { path in path.split(separator: "/", maxSplits: 2).dropFirst().first.map(String.init) ?? "" }
        let time = now()
        return try read { db in
            var deletes: [String] = []
            for room in administered {
                let byEpoch = Dictionary(grouping: byRoom[room.id.hex] ?? []) { RemoteLayout.parse($0)?.epoch ?? UInt64.max }
                let times = try Dictionary(byEpoch.keys.filter { $0 < room.state.epoch }.compactMap { e in
                    try storedCommit(db, room.id, e + 1).map { (e, $0.time) }
                }, uniquingKeysWith: { a, _ in a })
                let expired = RemoteLayout.expiredKeyEpochs(Array(byEpoch.keys), current: room.state.epoch, retention: room.retentionSeconds,
                                                            now: time, superseded: { times[$0] })
                deletes += expired.flatMap { byEpoch[$0] ?? [] }
            }
            return deletes.sorted()
        }
    }
}
