import Foundation
import GRDB
import RoomKeyCore

/// What an audit entry records.
public enum AuditEvent: String, Codable, Sendable, CaseIterable {
    case initialize = "init"
    case contactAdd = "contact-add"
    case contactRemove = "contact-remove"
    case contactKeyChange = "contact-key-change"
    case contactVerify = "contact-verify"
    case contactAccept = "contact-accept"
    case commitMade = "commit-made"
    case commitApplied = "commit-applied"
    case bundleMade = "bundle-made"
    case bundleReceived = "bundle-received"
    case rotation
    case prune
    case passphraseChange = "passphrase-change"
    case restore
    case fingerprintConfirm = "fingerprint-confirm"
    case identityUpgrade = "identity-upgrade"
    case roomPolicy = "room-policy"
    case remote
    case staged
    case roomForget = "room-forget"
}

/// One entry of the keyring's audit log.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// Position in the log, from 1.
    public let seq: Int64
    /// When it happened (seconds since the epoch, keyring clock).
    public let time: UInt64
    /// What happened.
    public let event: AuditEvent
    /// Details for people: names, epochs, counts.
    public let detail: String
    /// The chain hash of the previous entry (hex; zeros for the first).
    public let previous: String
}

/// Why `verifyAudit` failed.
public enum AuditError: Error, Equatable, Sendable {
    /// An entry is missing, edited, moved or out of chain.
    case broken(seq: Int64, reason: String)
}

extension AuditError: RoomKeyError {
    /// A broken log is a failed integrity check.
    public var category: ErrorCategory { .rejected }
    /// A one-line description naming the first bad entry.
    public var message: String {
        switch self {
        case let .broken(seq, reason): "audit log is broken at entry \(seq): \(reason)"
        }
    }
}

/// The audit log: every keyring change appends a sealed entry; each entry's chain hash covers the previous one,
/// and a sealed head row records the last entry, so edits, deletions and truncation are all detected.
///
/// `chain_n = BLAKE2b-256(key = tag key, "audit" 00 || chain_{n-1} || u64 n || sealed entry n)`, `chain_0` = zeros.
extension Keyring {
    struct AuditHead: Codable {
        var seq: Int64
        var chain: String
        /// True once a roomkey that keeps row digests wrote this head: the keyring can never again be one from before
        /// the digest, whose first digests are computed from its rows (`SchemaUpgrade`). Absent in older heads.
        var rowDigests: Bool?
    }

    static let auditHeadKey: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]

    private func chainHash(previous: [UInt8], seq: Int64, sealed: [UInt8]) -> [UInt8] {
        BLAKE2b.hash([Array("audit".utf8), [0], previous, u64(UInt64(seq)), sealed], key: tagKey)
    }

    func auditHead(_ db: Database) throws -> AuditHead? {
        guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM audit_head WHERE id = 1")) else { return nil }
        return try rows.open(AuditHead.self, Array(sealed), table: "audit_head", primaryKey: Self.auditHeadKey)
    }

    /// A room as audit entries name it: its name in double quotes (a quote or backslash in it escaped) and its id. A
    /// name is chosen by whoever made the room: unquoted, `payroll epoch 9 by <your id>: remove` read as the rest of an
    /// entry, and two rooms of one name could not be told apart (found by a hostile review).
    static func auditRoom(_ name: String, _ id: RoomID) -> String {
        "\(auditName(name)) (\(id.hex))"
    }

    /// A name in an audit entry: in double quotes, a quote or backslash in it escaped. A contact's name is its card's
    /// handle unless the user gave another, so it is chosen by someone else as a room's name is.
    static func auditName(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Appends an entry inside the caller's transaction.
    func audit(_ db: Database, _ event: AuditEvent, _ detail: String) throws {
        // The head is checked against its digest first: with it deleted from outside, every writing command failed
        // with SQLite's "UNIQUE constraint failed" (exit 1), and with the entries deleted too the chain began again at
        // 1 unnoticed (a review). One row: the check costs nothing.
        try requireIntact(db, "audit_head")
        let head = try auditHead(db) ?? AuditHead(seq: 0, chain: Hex.encode(Commit.genesisHead))
        let seq = head.seq + 1
        let entry = AuditEntry(seq: seq, time: now(), event: event, detail: detail, previous: head.chain)
        let sealed = try rows.seal(record: entry, table: "audit_entry", primaryKey: u64(UInt64(seq)))
        try db.cachedStatement(sql: "INSERT INTO audit_entry (seq, sealed) VALUES (?, ?)").execute(arguments: [seq, Data(sealed)])
        let previous = (try? Hex.decode(head.chain, what: "chain")) ?? Commit.genesisHead
        try saveAuditHead(db, AuditHead(seq: seq, chain: Hex.encode(chainHash(previous: previous, seq: seq, sealed: sealed)), rowDigests: true))
    }

    private func saveAuditHead(_ db: Database, _ head: AuditHead) throws {
        let sealedHead = try rows.seal(record: head, table: "audit_head", primaryKey: Self.auditHeadKey)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO audit_head (id, sealed) VALUES (1, ?)").execute(arguments: [Data(sealedHead)])
    }

    /// Marks the audit head of a keyring written by an earlier roomkey (`rowDigests`) in the caller's write transaction;
    /// every head written after that carries the mark. Once this connection has read a marked head it looks no more.
    func markAuditHead(_ db: Database) throws {
        if auditHeadMarked { return }
        guard let head = try auditHead(db) else { return }
        if head.rowDigests == true { auditHeadMarked = true; return }
        var marked = head
        marked.rowDigests = true
        try saveAuditHead(db, marked)
    }

    /// Every entry, oldest first (each row's integrity is checked as it is opened, and the tables' digests first: the
    /// last entries deleted and an older head put back showed a whole chain without them, a hostile review).
    public func auditEntries() throws -> [AuditEntry] {
        try read { db in
            try requireIntact(db, "audit_entry", "audit_head")
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, sealed FROM audit_entry ORDER BY seq")).map { row in
                let seq = try row.positiveInteger("seq", table: "audit_entry")
                return try rows.open(AuditEntry.self, try row.blob("sealed", table: "audit_entry"), table: "audit_entry", primaryKey: u64(UInt64(seq)))
            }
        }
    }

    /// Checks the whole log: consecutive sequence numbers from 1, every row opens, every chain link, and the head.
    /// Returns the number of entries.
    @discardableResult
    public func verifyAudit() throws -> Int {
        try read { db in try verifyAudit(db) }
    }

    /// `verifyAudit` in the caller's transaction.
    @discardableResult
    func verifyAudit(_ db: Database) throws -> Int {
        var chain = Commit.genesisHead
        var expected: Int64 = 1
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, sealed FROM audit_entry ORDER BY seq")) {
            guard let seq = try? row.positiveInteger("seq", table: "audit_entry"), let sealed = try? row.blob("sealed", table: "audit_entry") else {
                throw AuditError.broken(seq: expected, reason: "entry was modified")
            }
            if seq != expected { throw AuditError.broken(seq: expected, reason: "entry is missing") }
            guard let entry = try? rows.open(AuditEntry.self, sealed, table: "audit_entry", primaryKey: u64(UInt64(seq))) else {
                throw AuditError.broken(seq: seq, reason: "entry was modified")
            }
            guard entry.seq == seq, entry.previous == Hex.encode(chain) else {
                throw AuditError.broken(seq: seq, reason: "entry does not chain to the one before")
            }
            chain = chainHash(previous: chain, seq: seq, sealed: sealed)
            expected += 1
        }
        guard let head = try? auditHead(db) else { throw AuditError.broken(seq: expected, reason: "the log head is missing or modified") }
        if head.seq != expected - 1 || head.chain != Hex.encode(chain) {
            throw AuditError.broken(seq: min(head.seq, expected - 1) + 1, reason: "the log ends at entry \(expected - 1) but its head records \(head.seq)")
        }
        return Int(expected - 1)
    }
}
