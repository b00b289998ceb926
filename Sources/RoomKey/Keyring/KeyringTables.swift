/// Every table a keyring holds, with what is checked before it is read (PROTOCOL §7b). A sealed row opens as well as
/// an older sealed copy of itself, so a table that decisions rest on is checked against its sealed digest first
/// (`Keyring.requireIntact`); a table left out says why a row put back, deleted or added there decides nothing.
/// A new table must be entered here: `KeyringTablesTests` compares this list with the schema and with PROTOCOL.md.
enum KeyringTables {
    /// What guards a table's rows when they are read.
    enum Rule: Equatable {
        /// Checked against the table's digest before a decision rests on it.
        case checkedBeforeUse
        /// Not checked before use; the reason says why no decision rests on an older, missing or added row.
        case notChecked(reason: String)
    }

    /// The rule of each table, by name.
    static let rules: [String: Rule] = [
        "audit_entry": .checkedBeforeUse,
        "audit_head": .checkedBeforeUse,
        "contact": .checkedBeforeUse,
        "contact_alert": .checkedBeforeUse,
        "contact_key_history": .checkedBeforeUse,
        "epoch_members": .checkedBeforeUse,
        "identity": .checkedBeforeUse,
        "key_retention": .checkedBeforeUse,
        "member_tenure": .checkedBeforeUse,
        "owed_rotation": .checkedBeforeUse,
        "prune_clock": .checkedBeforeUse,
        "remote": .checkedBeforeUse,
        "retired_key": .checkedBeforeUse,
        "room": .checkedBeforeUse,
        "room_commit": .checkedBeforeUse,
        "room_remote": .checkedBeforeUse,
        "room_summary": .checkedBeforeUse,
        "scale_backfill": .checkedBeforeUse,
        "seen_bundle": .checkedBeforeUse,
        "seen_bundle_whole": .checkedBeforeUse,
        "sender_key": .checkedBeforeUse,
        "sender_key_head": .checkedBeforeUse,
        "staged_flight": .checkedBeforeUse,
        "staged_intent": .checkedBeforeUse,
        "room_epoch": .notChecked(reason: "written once per epoch and never rolled back: a row's only older copy holds the same roster, and the room row names the epoch and head that the roster must match"),
        "epoch_members_backfill": .notChecked(reason: "only lists rooms whose epoch_members rows are still to be written; epoch_members itself is checked"),
        "pending_bundle": .notChecked(reason: "waiting bundles are signed files, checked in full when they are applied; a row put back or deleted only re-delivers or withholds a bundle"),
        "room_bundle": .notChecked(reason: "a report of bundles made and received, for room report; no decision reads it"),
        "outbox": .notChecked(reason: "bundles waiting to be written out; members check every bundle they receive, so a row put back or deleted only re-sends or withholds one"),
        "outbox_bundle": .notChecked(reason: "the bytes of an outbox entry, as outbox"),
        "write_counter": .notChecked(reason: "holds the digests themselves and the write count, which the state file outside the keyring checks"),
        "keyring_header": .notChecked(reason: "read before the keyring key exists, to unlock it; a wrong header fails to unlock"),
        "grdb_migrations": .notChecked(reason: "migration names, checked against the sealed migration count and the schema digest at open"),
    ]

    /// The tables checked before use.
    static let checked: Set<String> = Set(rules.compactMap { $0.value == .checkedBeforeUse ? $0.key : nil })
}
