import Foundation
import GRDB
import RoomKeyCore

/// A membership change staged for a room with a git remote, waiting to be published.
public struct StagedIntent: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The operations it stands for.
    public let operations: [RoomKeyCore.Operation]
    /// When it was staged.
    public let created: UInt64
    /// The room's epoch and head when it was staged (nil for a change staged by an older version).
    public let base: (epoch: UInt64, head: [UInt8])?
    /// The identities it is about: every key of each contact it names (nil for a change staged by an older version).
    public let subjects: [IdentityID]?
    /// The member's leave request, for a removal the member asked for (checked again whenever it is planned).
    public let leaveRequest: [UInt8]?
    /// The admin insisted on adding a handle the room already had.
    public let allowSameHandle: Bool
}

/// The `staged_intent` table (membership changes waiting for a push, in order) and `staged_flight` (per room, the commit
/// built from them and being pushed: its epoch, bytes and bundle, kept so a sync killed after its push recognises it).
extension Keyring {
    /// The sealed plaintext of a `staged_intent` row.
    struct IntentRecord: Codable {
        var roomID: String
        var operations: Data
        var created: UInt64
        var baseEpoch: UInt64?
        var baseHead: String?
        var subjects: [String]?
        var leaveRequest: Data?
        var allowSameHandle: Bool?

        /// The intent this row holds (a damaged row is an integrity failure).
        func intent(room: RoomID) throws -> StagedIntent {
            let ops = try Keyring.decodeOperations(operations, table: "staged_intent")
            let head = try baseHead.map { try Hex.decode($0, what: "head") }
            let ids = try subjects.map { try $0.map { try IdentityID(bytes: Hex.decode($0, what: "id")) } }
            return StagedIntent(roomID: room, operations: ops, created: created, base: baseEpoch.flatMap { e in head.map { (e, $0) } },
                                subjects: ids, leaveRequest: leaveRequest.map(Array.init), allowSameHandle: allowSameHandle ?? false)
        }

        /// The row for `intent`.
        init(_ intent: StagedIntent) {
            roomID = intent.roomID.hex
            operations = Keyring.encodeOperations(intent.operations)
            created = intent.created
            baseEpoch = intent.base?.epoch
            baseHead = intent.base.map { Hex.encode($0.head) }
            subjects = intent.subjects?.map(\.hex)
            leaveRequest = intent.leaveRequest.map { Data($0) }
            allowSameHandle = intent.allowSameHandle ? true : nil
        }
    }

    /// The sealed plaintext of a `staged_flight` row.
    struct FlightRecord: Codable {
        var roomID: String
        var epoch: UInt64
        var previousHead: String
        var commit: Data
        var bundle: Data
        /// The intents the commit carries (row tags, hex).
        var intents: [String]
    }

    /// Encodes operations: a 4-byte count, then each operation in its commit form.
    static func encodeOperations(_ ops: [RoomKeyCore.Operation]) -> Data {
        var w = ByteWriter()
        w.writeU32(UInt32(ops.count))
        for op in ops { op.write(to: &w) }
        return Data(w.bytes)
    }

    /// Decodes what `encodeOperations` wrote; a damaged row is an integrity failure.
    static func decodeOperations(_ data: Data, table: String) throws -> [RoomKeyCore.Operation] {
        var r = ByteReader(Array(data), what: "staged operations")
        do {
            let count = try r.readCount(width: 4, "operations", limit: Commit.maxOperations)
            let ops = try (0..<count).map { _ throws(WireError) in try RoomKeyCore.Operation.read(from: &r) }
            try r.finish()
            return ops
        } catch {
            throw KeyringError.integrityFailure(table: table)
        }
    }

    /// Stages `intent` after every change staged before.
    func stageIntent(_ db: Database, _ intent: StagedIntent) throws {
        let tag = self.tag("staged-intent", random.bytes(16))
        let record = IntentRecord(intent)
        let seq = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM staged_intent")) ?? 0) + 1
        try db.cachedStatement(sql: "INSERT INTO staged_intent (intent_tag, seq, room_tag, sealed) VALUES (?, ?, ?, ?)").execute(
                       arguments: [Data(tag), seq, Data(roomTag(intent.roomID)), Data(try rows.seal(record: record, table: "staged_intent", primaryKey: tag))])
    }

    /// A room's staged intents, oldest first, with their row tags.
    func stagedIntents(_ db: Database, room: RoomID) throws -> [(tag: [UInt8], intent: StagedIntent)] {
        // A published (and since undone) intent put back in the file is planned, signed and pushed again: checked first.
        try requireIntact(db, "staged_intent", "staged_flight")
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT intent_tag, sealed FROM staged_intent WHERE room_tag = ? ORDER BY seq"),
                         arguments: [Data(roomTag(room))]).map { row in
            let tag = try row.blob("intent_tag", table: "staged_intent")
            let record = try rows.open(IntentRecord.self, try row.blob("sealed", table: "staged_intent"), table: "staged_intent", primaryKey: tag)
            guard record.roomID == room.hex else { throw KeyringError.integrityFailure(table: "staged_intent") }
            do { return (tag, try record.intent(room: room)) } catch { throw KeyringError.integrityFailure(table: "staged_intent") }
        }
    }

    /// Every room with staged intents or a flight (by room tag).
    func stagedRoomTags(_ db: Database) throws -> [[UInt8]] {
        try requireIntact(db, "staged_intent", "staged_flight")
        let tags = try Data.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT room_tag FROM staged_intent UNION SELECT room_tag FROM staged_flight"))
        return tags.map { Array($0) }
    }

    /// Every staged intent, oldest first (for `sync` and `outbox list` to report).
    public func stagedIntents() throws -> [StagedIntent] {
        try read { db in
            try requireIntact(db, "staged_intent")
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT intent_tag, sealed FROM staged_intent ORDER BY seq")).map { row in
                let tag = try row.blob("intent_tag", table: "staged_intent")
                let record = try rows.open(IntentRecord.self, try row.blob("sealed", table: "staged_intent"), table: "staged_intent", primaryKey: tag)
                guard let id = try? RoomID(bytes: Hex.decode(record.roomID, what: "room id")) else { throw KeyringError.integrityFailure(table: "staged_intent") }
                do { return try record.intent(room: id) } catch { throw KeyringError.integrityFailure(table: "staged_intent") }
            }
        }
    }

    /// Replaces an intent's operations (what a rebase kept), or deletes it when none is left.
    func rewriteIntent(_ db: Database, tag: [UInt8], _ intent: StagedIntent, operations ops: [RoomKeyCore.Operation]) throws {
        if ops.isEmpty {
            try db.cachedStatement(sql: "DELETE FROM staged_intent WHERE intent_tag = ?").execute(arguments: [Data(tag)])
            return
        }
        var record = IntentRecord(intent)
        record.operations = Self.encodeOperations(ops)
        try db.cachedStatement(sql: "UPDATE staged_intent SET sealed = ? WHERE intent_tag = ?").execute(
                       arguments: [Data(try rows.seal(record: record, table: "staged_intent", primaryKey: tag)), Data(tag)])
    }

    /// Deletes a room's staged intents and flight (`remote remove --force`); returns how many intents there were.
    func deleteStaged(_ db: Database, room: RoomID) throws -> Int {
        let count = try stagedCount(db, room: room)
        try db.cachedStatement(sql: "DELETE FROM staged_intent WHERE room_tag = ?").execute(arguments: [Data(roomTag(room))])
        try deleteFlight(db, room: room)
        return count
    }

    /// Deletes intents by row tag.
    func deleteIntents(_ db: Database, tags: [[UInt8]]) throws {
        for tag in tags { try db.cachedStatement(sql: "DELETE FROM staged_intent WHERE intent_tag = ?").execute(arguments: [Data(tag)]) }
    }

    /// The commit being pushed for a room, if any.
    func flight(_ db: Database, room: RoomID) throws -> FlightRecord? {
        try requireIntact(db, "staged_flight")
        let tag = roomTag(room)
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM staged_flight WHERE room_tag = ?"), arguments: [Data(tag)]) else { return nil }
        let record = try rows.open(FlightRecord.self, Array(sealed), table: "staged_flight", primaryKey: tag)
        guard record.roomID == room.hex else { throw KeyringError.integrityFailure(table: "staged_flight") }
        return record
    }

    /// Every room's flight.
    func flights(_ db: Database) throws -> [FlightRecord] {
        try requireIntact(db, "staged_flight")
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT room_tag, sealed FROM staged_flight")).map { row in
            try rows.open(FlightRecord.self, try row.blob("sealed", table: "staged_flight"), table: "staged_flight",
                          primaryKey: try row.blob("room_tag", table: "staged_flight"))
        }
    }

    /// How many intents are staged for `room`.
    func stagedCount(_ db: Database, room: RoomID) throws -> Int {
        try requireIntact(db, "staged_intent")
        return try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM staged_intent WHERE room_tag = ?"), arguments: [Data(roomTag(room))]) ?? 0
    }

    /// Records the commit being pushed for a room (one per room).
    func saveFlight(_ db: Database, _ record: FlightRecord, room: RoomID) throws {
        let tag = roomTag(room)
        // Not a cached statement: it would keep the bound flight (a whole bundle) until its next use.
        try db.execute(sql: "INSERT OR REPLACE INTO staged_flight (room_tag, sealed) VALUES (?, ?)",
                       arguments: [Data(tag), Data(try rows.seal(record: record, table: "staged_flight", primaryKey: tag))])
    }

    /// Forgets a room's flight (published and applied, or superseded).
    func deleteFlight(_ db: Database, room: RoomID) throws {
        try db.cachedStatement(sql: "DELETE FROM staged_flight WHERE room_tag = ?").execute(arguments: [Data(roomTag(room))])
    }
}

extension Keyring {
    /// `room forget`: deletes its staged changes (`roomTag` is the room's tag).
    func forgetStaged(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM staged_intent WHERE room_tag = ?").execute(arguments: [roomTag])
        try db.cachedStatement(sql: "DELETE FROM staged_flight WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
