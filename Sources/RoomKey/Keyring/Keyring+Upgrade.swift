import Foundation
import GRDB
import RoomKeyCore

/// Bringing an unlocked keyring's schema up to date (`SchemaUpgrade`): its rows are checked against their sealed digests,
/// the missing migrations run, and the digests are computed anew over the migrated rows, all in one transaction. A kill
/// leaves the file as it was; a file someone else migrated is never taken on trust, since its rows can no longer be
/// checked against digests sealed before the migrations.
extension Keyring {
    /// What the file as it is now needs (`SchemaUpgrade.decide` over its migrations and sealed write counter);
    /// `countSeen`: this machine's rollback state file has counted writes of this keyring.
    func schemaUpgrade(_ db: Database, countSeen: Bool = false) throws -> SchemaUpgrade {
        let known = KeyringSchema.migrations.map(\.identifier)
        let applied = try KeyringSchema.migrator.appliedIdentifiers(db)
        let record = try db.tableExists("write_counter") ? try writeCounter(db) : nil
        // The audit head's mark matters only to a file without digests (`decide`); a current one is not read for it.
        var marked = false
        if record?.digests == nil, try db.tableExists("audit_head") { marked = try auditHead(db)?.rowDigests == true }
        let prefix = Set(known.prefix(applied.count)) == applied
        return SchemaUpgrade.decide(applied: applied.count, known: known.count, appliedArePrefix: prefix,
                                    sealedMigrations: record?.migrations, hasDigests: record?.digests != nil, digestsSeen: marked,
                                    countSeen: countSeen, schemaDifference: prefix ? try KeyringSchema.difference(db, migrations: applied.count) : nil)
    }

    /// Checks and upgrades the schema at open (before anything else reads rows), and returns what was done. A keyring
    /// opened read-only lists every migration (it would not have opened otherwise); one that still needs settling, which
    /// takes a write, is refused with the reason it could not be written.
    /// `stateFolder` is where this machine's rollback state files are (the keyring's own when nil).
    @discardableResult
    func upgradeSchema(stateFolder folder: String? = nil) throws -> SchemaUpgrade {
        let countSeen = try (folder ?? stateFolder).flatMap { try seenCount(in: $0) }.map { $0 > 0 } ?? false
        var version: Int64 = 0
        var plan = try read { db in
            version = try Int64.fetchOne(db, sql: "PRAGMA main.schema_version") ?? 0
            return try schemaUpgrade(db, countSeen: countSeen)
        }
        if case let .refuse(reason) = plan { throw IntegrityError.edited(reason) }
        if plan == .upToDate {
            integrity.checkedSchemaVersion = version
            return plan
        }
        if let readOnlyReason { throw readOnlyReason }
        var count: UInt64 = 0
        do {
            try db.inTransaction(.immediate) { db in
                // Decided again under the write lock: another process may have upgraded the file in between.
                // The plan includes the schema check, so a trigger or view stored in the file (which could change what
                // the migrations' own statements write) is refused here too.
                plan = try schemaUpgrade(db, countSeen: countSeen)
                switch plan {
                case .upToDate: return .rollback
                case let .refuse(reason): throw IntegrityError.edited(reason)
                case .firstDigest:
                    // Nothing to check the rows against; the audit log, chained and sealed since 0.1.0, must be whole,
                    // and the file's indexes must agree with its tables before migrations read them.
                    try verifyAudit(db)
                    try Self.requireSQLiteIntegrity(db)
                case .verifyThenMigrate: try requireTablesIntact(db, except: [])
                case let .settleEarlierMigrations(sealed):
                    try settleEarlierMigrations(db, KeyringSchema.migrations[sealed..<KeyringSchema.migrator.appliedIdentifiers(db).count])
                }
                try KeyringSchema.migrate(db)
                integrity.checkedSchemaVersion = try Int64.fetchOne(db, sql: "PRAGMA main.schema_version")
                integrity.recomputeOnWrite = true
                count = try bumpWriteCount(db)
                CrashPoint.reach(CrashPoint.beforeUpgradeCommit)
                return .commit
            }
        } catch {
            integrity.recomputeOnWrite = false
            throw Keyring.diagnosed(error, path: path, while: "upgrading the keyring", systemErrno: systemErrno())
        }
        guard plan != .upToDate else { return plan }
        digestCommitted()
        recordState(count)
        return plan
    }

    /// Refuses ("keyring was edited") unless every table but `except` holds exactly the rows its sealed digest accounts
    /// for, no table with a digest is gone, and the file stores no trigger or view; returns how many tables were checked.
    @discardableResult
    func requireTablesIntact(_ db: Database, except: Set<String>) throws -> Int {
        guard let sealed = try writeCounter(db)?.digests else { throw IntegrityError.edited("its integrity digest is missing") }
        let digests = try Self.decode(sealed)
        try Self.refuseStoredTriggersAndViews(db)
        try Self.requireSQLiteIntegrity(db)
        let tables = try Self.digestedTables(db)
        for table in tables where !except.contains(table) {
            guard try computedDigest(db, table) == digests[table] ?? .empty else {
                throw IntegrityError.edited("rows of \(table) were added, deleted or changed outside roomkey")
            }
        }
        if let gone = digests.keys.sorted().first(where: { !tables.contains($0) }) {
            throw IntegrityError.edited("table \(gone) was dropped outside roomkey")
        }
        return tables.count
    }

    /// Refuses a file SQLite finds inconsistent (`PRAGMA integrity_check`): lookups go through indexes, which the
    /// digests, read from the tables, do not see.
    static func requireSQLiteIntegrity(_ db: Database) throws {
        let problems = try String.fetchAll(db, sql: "PRAGMA main.integrity_check")
        guard problems == ["ok"] else { throw IntegrityError.edited("SQLite's integrity check failed: \(problems.first ?? "no result")") }
    }

    /// A file whose migrations `ran` (those after the sealed count, up to the ones it lists) ran without roomkey writing
    /// (an earlier roomkey that ended before its first write after them, or anyone with the file): each table those
    /// migrations rewrote is settled by the migration's own rule (lists and lookups rebuilt from the rooms, moved rows
    /// checked where they now are), and every other table must match its sealed digest. Migrations not run yet are no
    /// concern here: they run next, over checked rows.
    func settleEarlierMigrations(_ db: Database, _ ran: ArraySlice<KeyringSchema.Migration>) throws {
        let rewrites = ran.flatMap(\.rewrites)
        var rewritten: Set<String> = []
        for rewrite in rewrites {
            switch rewrite {
            case let .relisted(table), let .cleared(table): rewritten.insert(table)
            case let .moved(from, to): rewritten.formUnion([from, to])
            }
        }
        try requireTablesIntact(db, except: rewritten)
        let digests = try Self.decode(try writeCounter(db)?.digests ?? [:])
        for rewrite in rewrites {
            switch rewrite {
            case let .moved(from, to):
                // The migration moved every row: `from` is empty and `to` holds exactly the rows `from`'s digest sealed.
                guard digests[to] == nil, try computedDigest(db, from) == .empty,
                      try computedDigest(db, to, hashedAs: from) == digests[from] ?? .empty else {
                    throw IntegrityError.edited("rows of \(from) were added, deleted or changed outside roomkey")
                }
            case let .cleared(table):
                try db.execute(sql: "DELETE FROM main.\(table)")
            case let .relisted(table):
                try db.execute(sql: "DELETE FROM main.\(table); INSERT INTO main.\(table) (room_tag) SELECT room_tag FROM main.room")
            }
        }
    }
}
