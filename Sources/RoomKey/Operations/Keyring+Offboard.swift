import Foundation
import GRDB
import RoomKeyCore

/// What `offboard` did in one room.
public struct OffboardResult: Sendable {
    /// What happened.
    public enum Outcome: Sendable {
        /// Removed: the room's new epoch and the bundle written.
        case removed(epoch: UInt64, bundle: String)
        /// This keyring is not an admin of the room: another admin must remove the contact.
        case needsAnotherAdmin
        /// The removal failed for this room (other rooms were still handled).
        case failed(any RoomKeyError)
        /// The room has a git remote: the removal of `targets` is staged for `sync`, which makes it the next epoch's commit.
        case staged(remote: String, targets: [IdentityID])
    }

    /// The room's name.
    public let room: String
    /// The room id.
    public let roomID: RoomID
    /// What happened.
    public let outcome: Outcome
}

extension Keyring {
    /// Removes the contact `name` (under its current or any earlier identity key) from every room it is in:
    /// one commit and one bundle per room this keyring administers, each room in its own transaction. In a room with a
    /// git remote the removal is staged instead (the caller syncs).
    public func offboard(contact name: String, deliver: BundleDelivery) throws -> [OffboardResult] {
        try automaticPrune()
        let me = try identity()
        let ids = try read { db -> [IdentityID] in
            guard let contact = try fetchContact(db, tag: try contactTag(db, name)) else { throw ContactError.notFound(name: name) }
            return [contact.id] + (try keyHistory(db, named: name)).map(\.card.id)
        }
        let rooms = try rooms()
        var results: [OffboardResult] = []
        for room in rooms {
            let targets = ids.filter { room.state.roster[$0] != nil }
            guard !targets.isEmpty, room.state.roster[me.id] != nil else { continue }
            guard room.state.roster[me.id]?.admin == true else {
                results.append(OffboardResult(room: room.name, roomID: room.id, outcome: .needsAnotherAdmin))
                continue
            }
            do {
                let outcome = try write { db -> OffboardResult.Outcome in
                    let current = try distributableRoom(db, room.id.hex, me: me.id)
                    if let remote = try remoteName(db, room: current.id) {
                        try stageIntent(db, try newIntent(db, room: current, operations: targets.map { .remove($0) }))
                        try audit(db, .staged, "\(Self.auditRoom(current.name, current.id)): offboard of \(name) staged for remote \(remote)")
                        return .staged(remote: remote, targets: targets)
                    }
                    let result = try commit(db, room: current, operations: targets.map { .remove($0) }, me: me, deliver: deliver)
                    return .removed(epoch: result.room.state.epoch, bundle: result.bundlePath)
                }
                results.append(OffboardResult(room: room.name, roomID: room.id, outcome: outcome))
            } catch let error as any RoomKeyError {
                results.append(OffboardResult(room: room.name, roomID: room.id, outcome: .failed(error)))
            }
        }
        return results
    }
}
