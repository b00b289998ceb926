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

/// The `room_bundle` table: a sealed record of every bundle made or received, for `room report`.
extension Keyring {
    /// Remembers a bundle made or received, for `room report`.
    func recordBundle(_ db: Database, room: RoomID, epoch: UInt64, sender: IdentityID, made: Bool, commits: Int) throws {
        let key = tag("room-bundle", room.bytes, random.bytes(16))
        let record = BundleRecord(epoch: epoch, sender: sender.hex, made: made, time: now(), commits: commits)
        let sealed = try rows.seal(record: record, table: "room_bundle", primaryKey: key)
        try db.cachedStatement(sql: "INSERT INTO room_bundle (bundle_tag, room_tag, sealed) VALUES (?, ?, ?)").execute(
                       arguments: [Data(key), Data(roomTag(room)), Data(sealed)])
    }

    /// Every bundle record of a room.
    func bundleRecords(_ db: Database, _ room: RoomID) throws -> [BundleRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT bundle_tag, sealed FROM room_bundle WHERE room_tag = ?"), arguments: [Data(roomTag(room))]).map { row in
            try rows.open(BundleRecord.self, try row.blob("sealed", table: "room_bundle"), table: "room_bundle",
                          primaryKey: try row.blob("bundle_tag", table: "room_bundle"))
        }
    }
}

extension Keyring {
    /// `room forget`: deletes its report of bundles made and received (`roomTag` is the room's tag).
    func forgetBundleRecords(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM room_bundle WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
