import Foundation
import GRDB
import RoomKeyCore

/// A bundle this keyring made or received, as the transparency report shows it.
public struct BundleRecord: Codable, Sendable {
    /// The bundle's epoch.
    public let epoch: UInt64
    /// Who made it (hex id).
    public let sender: String
    /// True if this keyring made it.
    public let made: Bool
    /// When it was made or received.
    public let time: UInt64
    /// How many commits it carried.
    public let commits: Int
}

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
    /// Remembers a bundle made or received, for `room report`.
    func recordBundle(_ db: Database, room: RoomID, epoch: UInt64, sender: IdentityID, made: Bool, commits: Int) throws {
        let key = tag("room-bundle", room.bytes, random.bytes(16))
        let record = BundleRecord(epoch: epoch, sender: sender.hex, made: made, time: now(), commits: commits)
        let sealed = try rows.seal(record: record, table: "room_bundle", primaryKey: key)
        try db.execute(sql: "INSERT INTO room_bundle (bundle_tag, room_tag, sealed) VALUES (?, ?, ?)",
                       arguments: [Data(key), Data(roomTag(room)), Data(sealed)])
    }

    /// The room's history epoch by epoch: commit, roster, fingerprint and confirmation, bundles made and received.
    public func report(of nameOrID: String) throws -> (StoredRoom, [EpochReport]) {
        try read { db in
            let room = try findRoom(db, nameOrID)
            let bundles = try Row.fetchAll(db, sql: "SELECT bundle_tag, sealed FROM room_bundle WHERE room_tag = ?",
                                           arguments: [Data(roomTag(room.id))]).map { row in
                try rows.open(BundleRecord.self, try row.blob("sealed", table: "room_bundle"), table: "room_bundle",
                               primaryKey: try row.blob("bundle_tag", table: "room_bundle"))
            }
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
