import GRDB
import RoomKeyCore

/// The keyring's SQLite schema: named, append-only migrations that never reference app types.
enum KeyringSchema {
    /// `PRAGMA application_id` of a roomkey keyring ("rkey").
    static let applicationID: Int32 = 0x726b_6579

    /// One migration: its name in `grdb_migrations`, what it did to rows already there, and its SQL.
    struct Migration {
        /// Its identifier, as listed in `grdb_migrations`.
        let identifier: String
        /// What it did to rows that existed before it (tables it only creates start empty and are left out).
        let rewrites: [RowRewrite]
        /// Its schema change.
        let run: @Sendable (Database) throws -> Void

        init(_ identifier: String, rewrites: [RowRewrite] = [], run: @escaping @Sendable (Database) throws -> Void) {
            (self.identifier, self.rewrites, self.run) = (identifier, rewrites, run)
        }
    }

    /// What a migration did to rows already in the file, for settling a file an earlier roomkey migrated and never wrote.
    enum RowRewrite: Equatable {
        /// A to-do list of rooms (`scale_backfill`, `epoch_members_backfill`), filled from `room`: listed anew, every room.
        case relisted(String)
        /// Lookup rows built from the rooms' logs: emptied, to be built again (their rooms are relisted too).
        case cleared(String)
        /// Every row moved from one table to another with the same columns; the second did not exist before.
        case moved(from: String, to: String)
    }

    /// Every migration, in order, as GRDB's migrator (its list of applied migrations; tests). Made once: every open
    /// and every write reads it.
    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        for migration in migrations { m.registerMigration(migration.identifier, migrate: migration.run) }
        return m
    }()

    /// GRDB's list of applied migrations, as its migrator makes it (SQLite stores it without `IF NOT EXISTS`).
    static let migrationListTable = "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)"

    /// Runs, inside the caller's transaction, every migration the file does not list yet, in order, and lists each as
    /// GRDB's migrator does: the upgrade, the check before it and the new digests after it commit together.
    static func migrate(_ db: Database) throws {
        let applied = try migrator.appliedIdentifiers(db)
        try db.execute(sql: migrationListTable)
        for migration in migrations where !applied.contains(migration.identifier) {
            try migration.run(db)
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [migration.identifier])
        }
    }

    /// Every migration, in order. Never edit one that has shipped; append a new one.
    static let migrations: [Migration] = {
        var m: [Migration] = []
        m.append(Migration("v1-keyring") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: """
                CREATE TABLE keyring_header (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    format INTEGER NOT NULL,
                    kdf TEXT NOT NULL,
                    ops_limit INTEGER NOT NULL,
                    mem_limit INTEGER NOT NULL,
                    salt BLOB NOT NULL,
                    wrapped_key BLOB NOT NULL
                );
                CREATE TABLE identity (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sealed BLOB NOT NULL
                );
                CREATE TABLE contact (
                    name_tag BLOB PRIMARY KEY,
                    id_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX contact_by_id_tag ON contact(id_tag);
                CREATE TABLE contact_key_history (
                    row_id BLOB PRIMARY KEY,
                    name_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX contact_key_history_by_name ON contact_key_history(name_tag);
                """)
        })
        m.append(Migration("v2-rooms") { db in
            try db.execute(sql: """
                CREATE TABLE room (
                    room_tag BLOB PRIMARY KEY,
                    name_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX room_by_name_tag ON room(name_tag);
                CREATE TABLE room_commit (
                    commit_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE room_epoch (
                    epoch_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE sender_key (
                    key_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX sender_key_by_room ON sender_key(room_tag);
                CREATE TABLE pending_bundle (
                    bundle_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE seen_bundle (
                    bundle_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL
                );
                """)
        })
        m.append(Migration("v3-messages") { db in
            // Sender-key rows (row format 2) become findable by epoch and by owner within an epoch, through blind
            // tags, so retention deletes them without opening every row; key_retention keeps, sealed, when each
            // epoch and generation was superseded.
            try db.execute(sql: """
                ALTER TABLE sender_key ADD COLUMN epoch_tag BLOB;
                ALTER TABLE sender_key ADD COLUMN owner_tag BLOB;
                CREATE INDEX sender_key_by_epoch ON sender_key(epoch_tag);
                CREATE INDEX sender_key_by_owner ON sender_key(owner_tag);
                CREATE TABLE key_retention (
                    room_tag BLOB PRIMARY KEY,
                    sealed BLOB NOT NULL
                );
                """)
        })
        m.append(Migration("v4-audit") { db in
            try db.execute(sql: """
                CREATE TABLE contact_alert (
                    name_tag BLOB PRIMARY KEY
                );
                CREATE TABLE audit_entry (
                    seq INTEGER PRIMARY KEY,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE audit_head (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sealed BLOB NOT NULL
                );
                CREATE TABLE room_bundle (
                    bundle_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX room_bundle_by_room ON room_bundle(room_tag);
                CREATE TABLE prune_clock (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sealed BLOB NOT NULL
                );
                """)
        })
        m.append(Migration("v5-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE outbox (
                    entry_tag BLOB PRIMARY KEY,
                    seq INTEGER NOT NULL UNIQUE,
                    delivered INTEGER NOT NULL DEFAULT 0,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX outbox_undelivered ON outbox(delivered, seq);
                CREATE TABLE owed_rotation (
                    room_tag BLOB PRIMARY KEY
                );
                ALTER TABLE pending_bundle ADD COLUMN authenticated INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE write_counter (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sealed BLOB NOT NULL
                );
                """)
        })
        m.append(Migration("v6-integrity") { _ in
            // No schema change: the running row digest lives, sealed, in the write counter row. Running this migration
            // is what lets the first open of an older keyring compute the digest from its rows (`Keyring+Integrity`).
        })
        m.append(Migration("v7-scale", rewrites: [.relisted("scale_backfill")]) { db in
            // Lookups that do not grow with history or breadth: member_tenure holds, per room and member (keyed tag), the
            // sealed epochs it was a member with its handle; room_summary one sealed row per room for `room list`.
            // scale_backfill lists the rooms whose rows are still to be built from their stored logs (every room already
            // here); the keyring builds them once it is unlocked, since only the keyring key can seal them.
            try db.execute(sql: """
                CREATE TABLE member_tenure (
                    member_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    member_key BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX member_tenure_by_member ON member_tenure(member_key);
                CREATE TABLE room_summary (
                    room_tag BLOB PRIMARY KEY,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE scale_backfill (
                    room_tag BLOB PRIMARY KEY
                );
                INSERT INTO scale_backfill (room_tag) SELECT room_tag FROM room;
                """)
        })
        m.append(Migration("v8-remotes") { db in
            // Git remotes (sealed name, URL and last-synced marker), the remote a room uses when there are several,
            // membership changes staged for a room with a remote, and the commit built from them that is being pushed.
            try db.execute(sql: """
                CREATE TABLE remote (
                    name_tag BLOB PRIMARY KEY,
                    seq INTEGER NOT NULL UNIQUE,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE room_remote (
                    room_tag BLOB PRIMARY KEY,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE staged_intent (
                    intent_tag BLOB PRIMARY KEY,
                    seq INTEGER NOT NULL UNIQUE,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX staged_intent_by_room ON staged_intent(room_tag, seq);
                CREATE TABLE staged_flight (
                    room_tag BLOB PRIMARY KEY,
                    sealed BLOB NOT NULL
                );
                """)
        })
        m.append(Migration("v9-epoch-members", rewrites: [.relisted("epoch_members_backfill")]) { db in
            // Per room and epoch (keyed tag), the sealed member ids with their signing keys: a sender-key bundle is
            // checked against it instead of the whole roster. epoch_members_backfill lists the rooms whose rows are still
            // to be built from their stored rosters (every room already here), once the keyring is unlocked.
            try db.execute(sql: """
                CREATE TABLE epoch_members (
                    epoch_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE TABLE epoch_members_backfill (
                    room_tag BLOB PRIMARY KEY
                );
                INSERT INTO epoch_members_backfill (room_tag) SELECT room_tag FROM room;
                """)
        })
        m.append(Migration("v10-outbox-bundles") { db in
            // Each outbox entry's bundle in its own sealed row, keyed by the entry's tag and written once, so that marking
            // the entry delivered rewrites only its small row. Rows already in `outbox` keep their bundle inside (they are
            // read as they are; sealing needs the keyring key) and get their bundle row when they are marked delivered.
            try db.execute(sql: """
                CREATE TABLE outbox_bundle (
                    entry_tag BLOB PRIMARY KEY,
                    sealed BLOB NOT NULL
                );
                """)
        })
        m.append(Migration("v11-tenure-order", rewrites: [.cleared("member_tenure"), .relisted("scale_backfill")]) { db in
            // A member_tenure row's key becomes the room's tag followed by its member_key, so the rows of one room sit
            // together. Keys are keyed tags, so the rows are dropped here and every room is listed in scale_backfill: the
            // keyring rebuilds them from the stored logs once it is unlocked (and reads a listed room's log until then).
            try db.execute(sql: """
                DELETE FROM member_tenure;
                INSERT OR IGNORE INTO scale_backfill (room_tag) SELECT room_tag FROM room;
                """)
        })
        m.append(Migration("v12-seen-digest", rewrites: [.moved(from: "seen_bundle", to: "seen_bundle_whole")]) { db in
            // seen_bundle records bundles by their seen digest from here on. Rows recorded before, by the hash of the
            // whole file, move to their own table (indexed by room, never written again): only a room that has some
            // pays that second hash of each bundle it receives.
            try db.execute(sql: """
                CREATE TABLE seen_bundle_whole (
                    bundle_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL
                );
                CREATE INDEX seen_bundle_whole_room ON seen_bundle_whole (room_tag);
                INSERT INTO seen_bundle_whole (bundle_tag, room_tag) SELECT bundle_tag, room_tag FROM seen_bundle;
                DELETE FROM seen_bundle;
                """)
        })
        m.append(Migration("v13-roster-replay") { _ in
            // A room_epoch row may from here on hold a replay (`02 ||`, RosterReplay) instead of a whole roster: the
            // whole roster of an earlier epoch with the stored commits since applied. No row changes; the migration is
            // listed so that a roomkey that reads only whole rows refuses the file as newer instead of as damaged.
        })
        m.append(Migration("v14-head-time") { _ in
            // A room row may from here on keep the time of its head commit (optional field 8 of RoomRecord's binary
            // form), so that accepting the next commit need not read the head commit only for its time. Rows written
            // before keep none and are read as they are; the migration is listed so that a roomkey that knows only
            // fields 0-7 refuses the file as newer instead of as damaged.
        })
        m.append(Migration("v15-key-generations") { db in
            // Per room, member and epoch the newest sender-key generation held (keyed by the sender-key owner tag), and
            // each superseded generation with when it was superseded (keyed by its sender-key tag), in place of the
            // retention ledger's lists, which grew with every rotation and were rewritten by every stored key. A ledger
            // that still lists generations has them moved into rows by the next write (sealing needs the keyring key).
            try db.execute(sql: """
                CREATE TABLE sender_key_head (
                    owner_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    epoch_tag BLOB NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX sender_key_head_by_epoch ON sender_key_head(epoch_tag);
                CREATE TABLE retired_key (
                    key_tag BLOB PRIMARY KEY,
                    room_tag BLOB NOT NULL,
                    epoch_tag BLOB NOT NULL,
                    deleted INTEGER NOT NULL,
                    sealed BLOB NOT NULL
                );
                CREATE INDEX retired_key_by_room ON retired_key(room_tag, deleted);
                CREATE INDEX retired_key_by_epoch ON retired_key(epoch_tag);
                """)
        })
        m.append(Migration("v16-epoch-member-changes", rewrites: [.relisted("epoch_members_backfill")]) { db in
            // An epoch_members row may from here on hold the changes since an earlier epoch's whole row (`02 ||`,
            // EpochMembersDelta) instead of every member. Every room is listed in epoch_members_backfill, so that its
            // rows are written again in that form once the keyring is unlocked (a whole row per epoch until then, read as
            // they are); a roomkey that reads only whole rows refuses the file as newer instead of as damaged.
            try db.execute(sql: "INSERT OR IGNORE INTO epoch_members_backfill (room_tag) SELECT room_tag FROM room")
        })
        m.append(Migration("v17-restored-mark") { _ in
            // A room row may from here on carry the restore mark (optional field 9 of RoomRecord's binary form,
            // StoredRoom.restoredBehind). Rows written before hold none; the migration is listed so that a roomkey that
            // knows only fields 0-8 refuses the file as newer instead of as damaged (a review).
        })
        return m
    }()
}
