import Foundation
import GRDB
import RoomKeyCore

/// One epoch of a room, for the transparency report.
public struct EpochReport: Sendable {
    /// The epoch.
    public let epoch: UInt64
    /// The commit that started it.
    public let commit: Commit
    /// The roster at this epoch.
    public let roster: Roster?
    /// The room fingerprint at this epoch.
    public let fingerprint: String
    /// True if the user confirmed the fingerprint at this epoch.
    public let confirmed: Bool
    /// Bundles of this epoch made or received here; their recipients were exactly `roster` minus the sender.
    public let bundles: [BundleRecord]
}

extension Keyring {
    /// The room's history epoch by epoch: commit, roster, fingerprint and confirmation, bundles made and received.
    public func report(of nameOrID: String) throws -> (StoredRoom, [EpochReport]) {
        try read { db in
            let room = try findRoom(db, nameOrID)
            let bundles = try bundleRecords(db, room.id)
            let epochs = try storedLog(db, room.id, through: room.state.epoch).map { commit in
                EpochReport(epoch: commit.epoch, commit: commit, roster: try epochRoster(db, room.id, commit.epoch),
                            fingerprint: RoomFingerprint.digits(roomID: room.id, epoch: commit.epoch, head: commit.head),
                            confirmed: room.confirmedEpochs.contains(commit.epoch),
                            bundles: bundles.filter { $0.epoch == commit.epoch }.sorted { $0.time < $1.time })
            }
            return (room, epochs)
        }
    }
}
