import Foundation
import GRDB
import RoomKeyCore

/// Bundles that wait for an earlier epoch, kept sealed in the keyring until they can be applied.
extension Keyring {
    /// The sealed plaintext of a `pending_bundle` row.
    struct PendingRecord: Codable {
        var path: String
        var bundle: Data
        var received: UInt64
    }

    /// Keeps a bundle for a later `receive`.
    /// The most bundles kept waiting at once: they cannot be authenticated yet, so their number is bounded.
    static let maxPending = 10_000

    /// Keeps a bundle for a later `receive`; refuses when `maxPending` bundles already wait.
    func storePending(_ item: Queued) throws {
        let digest = tag("pending", BLAKE2b.hash([item.bytes]))
        let record = PendingRecord(path: item.path, bundle: Data(item.bytes), received: now())
        let sealed = try rows.seal(record: record, table: "pending_bundle", primaryKey: digest)
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending_bundle") ?? 0 >= pendingLimit {
                throw BundleError.tooManyPending(limit: pendingLimit)
            }
            try db.execute(sql: "INSERT OR REPLACE INTO pending_bundle (bundle_tag, room_tag, sealed) VALUES (?, ?, ?)",
                           arguments: [Data(digest), Data(roomTag(item.bundle.roomID)), Data(sealed)])
        }
    }

    /// Every pending bundle: its row tag, original path and bytes.
    func pendingBundles() throws -> [(tag: [UInt8], path: String, bytes: [UInt8])] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT bundle_tag, sealed FROM pending_bundle").map { row in
                let tag = try row.blob("bundle_tag", table: "pending_bundle")
                let record = try rows.open(PendingRecord.self, try row.blob("sealed", table: "pending_bundle"), table: "pending_bundle", primaryKey: tag)
                return (tag, record.path, Array(record.bundle))
            }
        }
    }

    /// Tags of pending bundles that have waited longer than `olderThan` seconds.
    func stalePendingTags(olderThan: UInt64, now time: UInt64) throws -> [[UInt8]] {
        try read { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending_bundle") ?? 0 > 0 else { return [] }
            return try Row.fetchAll(db, sql: "SELECT bundle_tag, sealed FROM pending_bundle").compactMap { row in
                let tag = try row.blob("bundle_tag", table: "pending_bundle")
                let record = try rows.open(PendingRecord.self, try row.blob("sealed", table: "pending_bundle"), table: "pending_bundle",
                                           primaryKey: tag)
                return time >= record.received && time - record.received >= olderThan ? tag : nil
            }
        }
    }
}
