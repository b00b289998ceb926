import Foundation
import GRDB
import RoomKeyCore

/// Bundles that wait for an earlier epoch, kept sealed in the keyring until they can be applied, and digests of applied ones.
extension Keyring {
    /// The sealed plaintext of a `pending_bundle` row.
    struct PendingRecord: Codable {
        var path: String
        var bundle: Data
        var received: UInt64
    }

    /// The most bytes of sealed pending rows kept in one keyring; the oldest go first beyond it.
    static let maxPendingBytes = 64 * 1024 * 1024

    /// Keeps `bytes` (a bundle, or a leave request that waits for an epoch) for a later `receive`. When the pending rows
    /// would exceed `pendingByteLimit`, the oldest others of the lowest rank (`WaitingRank`, kept in the `authenticated`
    /// column: 0 a stranger's, 1 a known card's outside the room's roster, 2 a member's) are dropped first, never one
    /// that ranks above this one; strangers' rows together keep at most an eighth of the limit. A row those rules leave
    /// no room for is not kept (`BundleError.pendingFull`). (One bundle alone is bounded by the core's
    /// `maxWaitingSize`.) Returns how many were dropped.
    func storePending(bytes: [UInt8], path: String, room: RoomID, rank: WaitingRank) throws -> Int {
        switch try storePending([PendingInput(bytes: { bytes }, path: path, room: room, rank: rank)])[0] {
        case let .success(dropped): return dropped
        case let .failure(error): throw error
        }
    }

    /// One bundle to keep pending: its bytes are asked for when it is stored, one input at a time (an input read ahead
    /// reads its file again then), so a run that keeps many holds one whole bundle at a time.
    struct PendingInput {
        let bytes: () throws -> [UInt8]
        let path: String
        let room: RoomID
        let rank: WaitingRank
    }

    /// Keeps every input, in order, in one transaction, each under the bounds of `storePending(bytes:...)` exactly as if it were
    /// stored alone after the ones before it; returns how many rows each one's store dropped, or why its bytes could not
    /// be had (it is then not stored). The table's totals are summed once and then kept up to date row by row (summing
    /// them for every input made a receive of thousands of waiting bundles quadratic).
    func storePending(_ inputs: [PendingInput]) throws -> [Result<Int, any Error>] {
        if inputs.isEmpty { return [] }
        return try write { db in
            /// Drops the oldest row other than `kept` matching `filter`; its size. With `largestRoom`, the oldest of the
            /// room whose rows matching `filter` hold the most bytes: a member flooding one room with bundles that wait
            /// then drops its own, not those another room is waiting on (a protocol review: a member of one room pushed
            /// out another room's waiting commit, for good). Rooms not held here count as one room: a sender spreading
            /// bundles over made-up room ids must not make each of them smaller than a real room's (the next review).
            func dropOldest(except kept: [UInt8], _ filter: String, largestRoom: Bool = false) throws -> Int? {
                let bucket = "(CASE WHEN room_tag IN (SELECT room_tag FROM room) THEN room_tag END)"
                let roomFilter = largestRoom ? """
                    AND \(bucket) IS (SELECT \(bucket) AS b FROM pending_bundle WHERE bundle_tag != ? \(filter)
                                      GROUP BY b ORDER BY SUM(LENGTH(sealed)) DESC, MIN(rowid) LIMIT 1)
                    """ : ""
                guard let oldest = try Row.fetchOne(db, sql: """
                    SELECT rowid, LENGTH(sealed) AS size, authenticated FROM pending_bundle WHERE bundle_tag != ? \(filter)
                    \(roomFilter) ORDER BY rowid LIMIT 1
                    """, arguments: largestRoom ? [Data(kept), Data(kept)] : [Data(kept)]) else { return nil }
                try db.cachedStatement(sql: "DELETE FROM pending_bundle WHERE rowid = ?").execute(arguments: [oldest["rowid"] as Int64])
                return oldest["size"]
            }
            // Bytes kept per rank (rows written before ranks hold 0 or 1), summed once and then kept up to date.
            var byRank = [0, 0, 0]
            for row in try Row.fetchAll(db, sql: "SELECT authenticated, COALESCE(SUM(LENGTH(sealed)), 0) FROM pending_bundle GROUP BY authenticated") {
                byRank[min(max(row[0] as Int, 0), 2)] += row[1] as Int
            }
            let strangerShare = pendingByteLimit / 8
            var dropped: [Result<Int, any Error>] = []
            for input in inputs {
                let bytes: [UInt8]
                do { bytes = try input.bytes() } catch {
                    dropped.append(.failure(error))
                    continue
                }
                let digest = tag("pending", BLAKE2b.hash([bytes]))
                let record = PendingRecord(path: input.path, bundle: Data(bytes), received: now())
                let sealed = try rows.seal(record: record, table: "pending_bundle", primaryKey: digest)
                let rank = input.rank.rawValue
                // The row this one replaces, if the same bytes wait already, leaves the totals.
                let old = try Row.fetchOne(db.cachedStatement(sql: "SELECT LENGTH(sealed) AS size, authenticated FROM pending_bundle WHERE bundle_tag = ?"),
                                           arguments: [Data(digest)]).map { (size: $0["size"] as Int, rank: min(max($0["authenticated"] as Int, 0), 2)) }
                var after = byRank
                if let old { after[old.rank] -= old.size }
                // A row never displaces a row that ranks above it, and strangers' rows keep at most an eighth of the
                // limit together, this one included (PROTOCOL 5.4): when that leaves no room for it, it is not kept. A
                // member's row is always kept (alone, if it is larger than the limit), as before ranks.
                let above = rank >= 2 ? 0 : after[(rank + 1)...].reduce(0, +)
                let room = rank >= 2 ? Int.max : min(pendingByteLimit - above, rank == 0 ? strangerShare : .max)
                guard sealed.count <= room else {
                    dropped.append(.failure(BundleError.pendingFull(size: sealed.count, room: max(room, 0))))
                    continue
                }
                // Not a cached statement: it would keep the bound bundle (up to 64 MiB) until its next use.
                try db.execute(sql: "INSERT OR REPLACE INTO pending_bundle (bundle_tag, room_tag, sealed, authenticated) VALUES (?, ?, ?, ?)",
                               arguments: [Data(digest), Data(roomTag(input.room)), Data(sealed), rank])
                after[rank] += sealed.count
                byRank = after
                var count = 0
                while byRank[0] > strangerShare, let gone = try dropOldest(except: digest, "AND authenticated <= 0") {
                    byRank[0] -= gone
                    count += 1
                }
                // The oldest of the lowest rank go first, never one ranking above this row; among known senders' and
                // members' rows, the oldest of the room that holds the most bytes of that rank.
                var lowest = 0
                while byRank.reduce(0, +) > pendingByteLimit, lowest <= rank {
                    guard let gone = try dropOldest(except: digest, "AND authenticated \(["<= 0", "= 1", ">= 2"][lowest])",
                                                    largestRoom: lowest > 0) else {
                        lowest += 1
                        continue
                    }
                    byRank[lowest] -= gone
                    count += 1
                }
                dropped.append(.success(count))
            }
            return dropped
        }
    }

    /// Forgets a pending bundle that was settled.
    func deletePending(tag: [UInt8]) throws {
        try write { db in try db.cachedStatement(sql: "DELETE FROM pending_bundle WHERE bundle_tag = ?").execute(arguments: [Data(tag)]) }
    }

    /// True when a bundle with this digest was applied before.
    func isSeen(_ db: Database, _ digest: [UInt8]) throws -> Bool {
        try requireIntact(db, "seen_bundle")
        return try Data.fetchOne(db.cachedStatement(sql: "SELECT bundle_tag FROM seen_bundle WHERE bundle_tag = ?"), arguments: [Data(digest)]) != nil
    }

    /// True when any room holds bundles recorded before the seen digest: `receive` then hashes each whole file it
    /// reads ahead, since such a room asks for that hash.
    public func holdsWholeFileDigests() throws -> Bool {
        try read { db in
            try requireIntact(db, "seen_bundle_whole")
            return try Data.fetchOne(db.cachedStatement(sql: "SELECT bundle_tag FROM seen_bundle_whole LIMIT 1")) != nil
        }
    }

    /// True when the room holds bundles recorded before the seen digest (`seen_bundle_whole`, by whole-file hash).
    func holdsEarlierSeen(_ db: Database, _ room: RoomID) throws -> Bool {
        try requireIntact(db, "seen_bundle_whole")
        return try Data.fetchOne(db.cachedStatement(sql: "SELECT bundle_tag FROM seen_bundle_whole WHERE room_tag = ? LIMIT 1"),
                                 arguments: [Data(roomTag(room))]) != nil
    }

    /// True when a bundle with this whole-file digest was applied before the seen digest.
    func isSeenEarlier(_ db: Database, _ digest: [UInt8]) throws -> Bool {
        try requireIntact(db, "seen_bundle_whole")
        return try Data.fetchOne(db.cachedStatement(sql: "SELECT bundle_tag FROM seen_bundle_whole WHERE bundle_tag = ?"), arguments: [Data(digest)]) != nil
    }

    /// Records an applied bundle's digest, so the same bytes are a duplicate next time.
    func markSeen(_ db: Database, _ digest: [UInt8], _ room: RoomID) throws {
        try db.cachedStatement(sql: "INSERT INTO seen_bundle (bundle_tag, room_tag) VALUES (?, ?)").execute(arguments: [Data(digest), Data(roomTag(room))])
    }

    /// Every pending bundle, or with `room` only that room's: its row tag, original path and bytes, in stored order.
    /// Only the rows asked for are opened (a receive that applies something to one room read and opened the whole
    /// store, up to 64 MiB, at every run: a hostile review measured 0.9 s and 148 MB).
    func pendingBundles(room: RoomID? = nil) throws -> [(tag: [UInt8], path: String, bytes: [UInt8])] {
        try read { db in
            let rows = if let room {
                try Row.fetchAll(db.cachedStatement(sql: "SELECT bundle_tag, sealed FROM pending_bundle WHERE room_tag = ?"),
                                 arguments: [Data(roomTag(room))])
            } else {
                try Row.fetchAll(db.cachedStatement(sql: "SELECT bundle_tag, sealed FROM pending_bundle"))
            }
            return try rows.map { row in
                let tag = try row.blob("bundle_tag", table: "pending_bundle")
                let record = try self.rows.open(PendingRecord.self, try row.blob("sealed", table: "pending_bundle"), table: "pending_bundle",
                                                primaryKey: tag)
                return (tag, record.path, Array(record.bundle))
            }
        }
    }

    /// Tags of pending bundles that have waited longer than `olderThan` seconds.
    func stalePendingTags(olderThan: UInt64, now time: UInt64) throws -> [[UInt8]] {
        try read { db in
            guard try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM pending_bundle")) ?? 0 > 0 else { return [] }
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT bundle_tag, sealed FROM pending_bundle")).compactMap { row in
                let tag = try row.blob("bundle_tag", table: "pending_bundle")
                let record = try rows.open(PendingRecord.self, try row.blob("sealed", table: "pending_bundle"), table: "pending_bundle",
                                           primaryKey: tag)
                return time >= record.received && time - record.received >= olderThan ? tag : nil
            }
        }
    }
}

extension Keyring {
    /// `room forget`: deletes its waiting bundles and the digests of bundles applied (`roomTag` is the room's tag).
    func forgetBundlesSeen(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM pending_bundle WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM seen_bundle WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM seen_bundle_whole WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
