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
        var results: [ReceiveResult] = []
        for kept in try pendingLeaveRequests() {
            guard let request = try? LeaveRequest.parse(kept.bytes) else {
                try deletePending(tag: kept.tag)
                continue
            }
            let result = try stageLeaveRequest(request, path: kept.path, me: me)
            if try !keepsWaiting(request) {
                try deletePending(tag: kept.tag)
                results.append(result)
            }
        }
        for (path, data) in found {
            do {
                let request = try LeaveRequest.parse(data)
                let result = try stageLeaveRequest(request, path: path, me: me)
                if try keepsWaiting(request) {
                    _ = try storePending(bytes: data, path: path, room: request.roomID, authenticated: false)
                }
                results.append(result)
            } catch let error as WireError {
                results.append(ReceiveResult(path: path, status: .malformed, roomID: nil, epoch: nil, error: error, bundles: []))
            }
        }
        return results
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
