import Foundation
import GRDB
import RoomKeyCore

/// Leaving a room: an admin commits its own `leave`; a member forgets its keys at once and asks the admins.
extension Keyring {
    /// Leaves a room. An admin commits `[leave]` (another admin must remain). A member deletes its own sender keys for
    /// the room, marks the room left, and delivers a signed leave request for an admin to turn into a removal.
    public func leave(room nameOrID: String, deliver: BundleDelivery) throws -> CommitResult {
        try automaticPrune()
        let me = try identity()
        return try write { db in
            var room = try distributableRoom(db, nameOrID, me: me.id)
            if room.state.roster[me.id]?.admin == true {
                return try commit(db, room: room, operations: [.leave], me: me, deliver: deliver)
            }
            let request = LeaveRequest(roomID: room.id, epoch: room.state.epoch, signer: me.signing, time: now())
            try deleteSenderKeys(db, room.id, owner: me.id, epochs: room.joinedEpoch...room.state.epoch)
            room.left = true
            room.rotationDue = false
            try saveRoom(db, room)
            let admins = room.state.roster.adminCount
            let path = try enqueue(db, BundleOutput(roomID: room.id, roomName: room.name, epoch: room.state.epoch,
                                                    recipientCount: admins, bytes: request.encoded),
                                   kind: "leave-request", deliver: deliver)
            try audit(db, .bundleMade, "\(room.name) epoch \(room.state.epoch) leave request to the admins: \(path)")
            return CommitResult(room: room, bundlePath: path, recipientCount: admins)
        }
    }

    /// Settles leave requests received in this run: the core decides, and an admin commits each removal at once (in a
    /// room with a git remote, stages it).
    func receiveLeaveRequests(_ requests: [(index: Int, path: String, request: LeaveRequest)], me: borrowing LocalIdentity,
                              deliver: BundleDelivery) throws -> [Int: ReceiveResult] {
        var results: [Int: ReceiveResult] = [:]
        for item in requests {
            let r = item.request
            func result(_ status: ReceiveStatus, _ error: (any RoomKeyError)? = nil, _ bundles: [String] = []) -> ReceiveResult {
                ReceiveResult(path: item.path, status: status, roomID: r.roomID, epoch: r.epoch, error: error, bundles: bundles)
            }
            // In a room with a git remote the removal is staged, with the request, for sync to publish (and check again).
            if try read({ db in try loadRoom(db, r.roomID).flatMap { try remoteName(db, room: $0.id) } }) != nil {
                results[item.index] = try stageLeaveRequest(r, path: item.path, me: me)
                continue
            }
            do {
                results[item.index] = try write { db in
                    switch try LeaveAcceptance(view: ReceiverStore(keyring: self, db: db), receiver: me.id).decide(r) {
                    case .notForMe: return result(.notForMe)
                    case .duplicate: return result(.duplicate)
                    case let .pending(why): return result(.pending, why)
                    case let .rejected(error): return result(.rejected, error)
                    case let .remove(member):
                        let room = try distributableRoom(db, r.roomID.hex, me: me.id)
                        let made = try commit(db, room: room, operations: [.remove(member)], me: me, deliver: deliver)
                        try audit(db, .commitMade, "\(room.name) removed \(member) at their request")
                        return result(.applied, nil, [made.bundlePath])
                    }
                }
            } catch let error as any RoomKeyError where error.category != .failure {
                results[item.index] = result(.rejected, error)
            }
        }
        return results
    }
}
