import Foundation
import GRDB
import RoomKeyCore

/// Leave requests found on a remote (docs/PROTOCOL.md §9.3 step 2): each becomes a staged removal for an admin, and one
/// that cannot be settled yet (its epoch is ahead of this keyring's room) is kept with the pending bundles, sealed and
/// bounded, and tried again on every later sync, so moving the sync marker past its file does not lose it.
extension Keyring {
    /// Stages the removals `found` (path, bytes) ask for and those kept by earlier syncs that can be settled now; returns
    /// one result per new file and one per kept request settled now.
    func settleLeaveRequests(_ found: [(path: String, bytes: [UInt8])], me: borrowing LocalIdentity) throws -> [ReceiveResult] {
        // Kept requests first, then the new ones, in one list: each room's requests are then decided and staged together.
        var items: [LeaveItem] = []
        var keptTags: [[UInt8]] = []
        for stored in try pendingLeaveRequests() {
            guard let request = try? LeaveRequest.parse(stored.bytes) else {
                try deletePending(tag: stored.tag)
                continue
            }
            items.append((keptTags.count, stored.path, request))
            keptTags.append(stored.tag)
        }
        // One result per new file, by its offset: a malformed one now, the others once staged.
        var fresh: [Int: ReceiveResult] = [:]
        for offset in found.indices {
            let file = found[offset]
            switch Result(catching: { () throws(WireError) in try LeaveRequest.parse(file.bytes) }) {
            case let .success(request): items.append((keptTags.count + offset, file.path, request))
            case let .failure(error):
                fresh[offset] = ReceiveResult(path: file.path, status: .malformed, roomID: nil, epoch: nil, error: error, bundles: [])
            }
        }
        var staged: [Int: ReceiveResult] = [:]
        for group in items.groupedInOrder(by: { $0.request.roomID }) {
            for (index, result) in try stageLeaveRequests(group, me: me) { staged[index] = result }
        }
        var results: [ReceiveResult] = []
        for item in items {
            if item.index < keptTags.count {
                guard try !keepsWaiting(item.request) else { continue }
                try deletePending(tag: keptTags[item.index])
                if let result = staged[item.index] { results.append(result) }
            } else {
                let offset = item.index - keptTags.count
                if try keepsWaiting(item.request) {
                    _ = try storePending(bytes: found[offset].bytes, path: item.path, room: item.request.roomID, rank: .stranger)
                }
                fresh[offset] = staged[item.index]
            }
        }
        // The kept requests settled now, then one result per new file in the order given.
        return results + found.indices.compactMap { fresh[$0] }
    }

    /// True when `request` may still be settled by a later epoch of its room here (`LeaveDecision.worthKeeping`).
    private func keepsWaiting(_ request: LeaveRequest) throws -> Bool {
        let room = try read { db in try loadRoom(db, request.roomID) }
        return LeaveDecision.worthKeeping(requestEpoch: request.epoch, roomEpoch: room.flatMap { $0.left ? nil : $0.state.epoch })
    }

    /// The leave requests kept with the pending bundles: row tag, path and bytes.
    private func pendingLeaveRequests() throws -> [(tag: [UInt8], path: String, bytes: [UInt8])] {
        try pendingBundles().filter { LeaveRequest.looksLike($0.bytes) }
    }
}
