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
            // A member's leave makes no commit, so a fork does not stop it: a member who left, rejoined the forked room
            // and could not leave again had no way out (a review). An admin's `[leave]` is a commit.
            let found = try findRoom(db, nameOrID)
            let forkedMember = found.forked && !found.left && found.state.roster[me.id].map { !$0.admin } == true
            var room = forkedMember ? found : try distributableRoom(db, nameOrID, me: me.id)
            if room.state.roster[me.id]?.admin == true {
                return try commit(db, room: room, operations: [.leave], me: me, deliver: deliver)
            }
            let request = LeaveRequest(roomID: room.id, epoch: room.state.epoch, signer: me.signing, time: now())
            try deleteSenderKeys(db, room.id, owner: me.id, epochs: room.joinedEpoch...room.state.epoch)
            room.left = true
            room.rotationDue = false
            try saveRoom(db, room)
            // One admin acts on the request (two would fork the room): the one every admin finds by the same rule.
            let admin = LeaveRequest.designatedAdmin(for: me.id, in: room.state.roster)
            let handle = admin.flatMap { room.state.roster[$0]?.card.handle } ?? ""
            let path = try enqueue(db, BundleOutput(roomID: room.id, roomName: room.name, epoch: room.state.epoch,
                                                    recipientCount: 1, bytes: request.encoded),
                                   kind: "leave-request", deliver: deliver)
            try audit(db, .bundleMade, "\(Self.auditRoom(room.name, room.id)) epoch \(room.state.epoch) leave request for admin \(admin.map { "\($0)" } ?? "none"): \(path)")
            var result = CommitResult(room: room, bundlePath: path, recipientCount: 1)
            result.leaveRequestFor = admin.map { (id: $0, handle: handle) }
            return result
        }
    }

    /// Settles leave requests received in this run: the core decides each, and an admin removes every member whose
    /// request it accepts in one commit per room (in a room with a git remote, stages each removal). A run that brings
    /// hundreds of requests for one room then seals one bundle to the members who stay, not one per request.
    func receiveLeaveRequests(_ requests: [LeaveItem], me: borrowing LocalIdentity,
                              deliver: BundleDelivery) throws -> [Int: ReceiveResult] {
        var results: [Int: ReceiveResult] = [:]
        for items in requests.groupedInOrder(by: { $0.request.roomID }) {
            guard let room = items.first?.request.roomID else { continue }
            // In a room with a git remote the removals are staged, with their requests, for sync to publish (and check again).
            if try read({ db in try loadRoom(db, room).flatMap { try remoteName(db, room: $0.id) } }) != nil {
                for (index, result) in try stageLeaveRequests(items, me: me) { results[index] = result }
            } else {
                for (index, result) in try commitLeaveRequests(items, me: me, deliver: deliver) { results[index] = result }
            }
        }
        return results
    }

    /// A leave request received in this run: its input's index and path, and the request.
    typealias LeaveItem = (index: Int, path: String, request: LeaveRequest)

    /// What is reported for a leave request.
    static func leaveResult(_ item: LeaveItem, _ status: ReceiveStatus, _ error: (any RoomKeyError)?, _ bundles: [String]) -> ReceiveResult {
        ReceiveResult(path: item.path, status: status, roomID: item.request.roomID, epoch: item.request.epoch, error: error, bundles: bundles)
    }

    /// What is reported for a request the core settled without a removal (nil for a removal).
    static func settled(_ item: LeaveItem, _ decision: LeaveDecision) -> ReceiveResult? {
        switch decision {
        case .notForMe: leaveResult(item, .notForMe, nil, [])
        case let .otherAdmin(admin):
            {
                var r = leaveResult(item, .notForMe, nil, [])
                r.warning = "leave request for admin \(admin), the admin with the lowest id, who removes the member; if that admin cannot, "
                    + "remove it with 'roomkey room remove \(item.request.roomID) \(item.request.member)'"
                return r
            }()
        case .duplicate: leaveResult(item, .duplicate, nil, [])
        case let .pending(why): leaveResult(item, .pending, why, [])
        case let .rejected(error): leaveResult(item, .rejected, error, [])
        case .remove: nil
        }
    }

    /// The requests of one room without a remote, in one transaction: each is decided on the room as it is, a member
    /// asking twice is removed once (the later requests are duplicates), and one commit removes them all. When that
    /// commit cannot be made (the room is forked, or a key change blocks distribution), every accepted request is
    /// rejected with the reason and can be received again later.
    private func commitLeaveRequests(_ items: [LeaveItem], me: borrowing LocalIdentity,
                                     deliver: BundleDelivery) throws -> [Int: ReceiveResult] {
        let result = Self.leaveResult
        var results: [Int: ReceiveResult] = [:]
        // Accepted requests, and among them repeats of a member accepted earlier in the run (duplicates once the
        // commit is made; refused with the rest if it cannot be).
        var accepted: [LeaveItem] = []
        var repeats: [LeaveItem] = []
        do {
            try write { db in
                let decisions = try LeaveAcceptance(view: ReceiverStore(keyring: self, db: db), receiver: me.id, designatedOnly: true)
                    .decide(items.map(\.request))
                var leaving: [IdentityID] = []
                var leavingSet: Set<IdentityID> = []
                for (item, decision) in zip(items, decisions) {
                    guard case let .remove(member) = decision else {
                        results[item.index] = Self.settled(item, decision)
                        continue
                    }
                    if leavingSet.insert(member).inserted {
                        leaving.append(member)
                    } else {
                        repeats.append(item)
                    }
                    accepted.append(item)
                }
                guard let first = accepted.first else { return }
                let room = try distributableRoom(db, first.request.roomID.hex, me: me.id)
                let made = try commit(db, room: room, operations: leaving.map { .remove($0) }, me: me, deliver: deliver)
                for member in leaving { try audit(db, .commitMade, "\(Self.auditRoom(room.name, room.id)) removed \(member) at their request") }
                for item in accepted { results[item.index] = result(item, .applied, nil, [made.bundlePath]) }
                for item in repeats { results[item.index] = result(item, .duplicate, nil, []) }
            }
        } catch let error as any RoomKeyError where error.category != .failure {
            // Nothing was stored: the removals are refused, and so is any request the transaction did not get to.
            let refused = Set(accepted.map(\.index))
            for item in items where results[item.index] == nil || refused.contains(item.index) {
                results[item.index] = result(item, .rejected, error, [])
            }
        }
        return results
    }
}
