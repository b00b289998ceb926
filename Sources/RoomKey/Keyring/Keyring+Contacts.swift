import Foundation
import GRDB
import RoomKeyCore

/// The sealed plaintext of a `contact_key_history` row: a card that a key change replaced.
struct ContactHistoryRecord: Codable {
    var name: String
    var card: String
    var replaced: UInt64
}

/// A row tag as a dictionary key, hashed in one call over its bytes (an array of bytes hashes them one at a time).
private struct TagKey: Hashable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

extension Keyring {
    static let contactTable = "contact"
    static let historyTable = "contact_key_history"

    /// The blind index of a contact name.
    func nameTag(_ name: String) -> [UInt8] {
        BLAKE2b.hash([Array("contact-name".utf8), [0], Array(name.utf8)], key: tagKey)
    }

    /// The blind index of an identity id.
    func idTag(_ id: IdentityID) -> [UInt8] {
        BLAKE2b.hash([Array("contact-id".utf8), [0], id.bytes], key: tagKey)
    }

    /// Opens a contact row's record, checked against its name tag (either form, see `ContactRecord`).
    func openContactRecord(_ sealed: [UInt8], tag: [UInt8]) throws -> ContactRecord {
        let plain = try rows.openSecret(sealed, table: Self.contactTable, primaryKey: tag)
        guard let record = plain.withUnsafeBytes(ContactRecord.decode), nameTag(record.name) == tag else {
            throw KeyringError.integrityFailure(table: Self.contactTable)
        }
        return record
    }

    /// Seals a contact row's record (binary form).
    func sealContactRecord(_ record: ContactRecord, tag: [UInt8]) -> [UInt8] {
        record.encoded().withUnsafeBytes { rows.seal($0, table: Self.contactTable, primaryKey: tag) }
    }

    /// Opens a contact row. Its card's signature was checked before it was stored and the sealed row authenticates it,
    /// so it is parsed, not verified again (listing many contacts would otherwise cost one Ed25519 check each).
    func decodeContact(_ sealed: Data, tag: [UInt8]) throws -> Contact {
        let record = try openContactRecord(Array(sealed), tag: tag)
        return Contact(name: record.name, card: record.card, verified: record.verified, keyChanged: record.keyChanged, added: record.added)
    }

    /// Writes a contact row; `accepted` carries an explicit acceptance of a changed key over to the new row.
    private func storeContact(_ db: Database, _ c: Contact, accepted: Bool? = nil) throws {
        if contactsSeen != nil { contactsSeen = [:] }
        let tag = nameTag(c.name)
        let record = ContactRecord(name: c.name, card: c.card, verified: c.verified, keyChanged: c.keyChanged, added: c.added,
                                   accepted: accepted)
        let sealed = sealContactRecord(record, tag: tag)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO contact (name_tag, id_tag, sealed) VALUES (?, ?, ?)").execute(
                       arguments: [Data(tag), Data(idTag(c.id)), Data(sealed)])
        try syncKeyChangeAlert(db, tag: tag, keyChanged: c.keyChanged)
        try noteContactChange(db, [c.id] + keyHistory(db, named: c.name).map(\.card.id))
    }

    func fetchContact(_ db: Database, tag: [UInt8]) throws -> Contact? {
        guard let sealed = try sealedContactRow(db, tag: tag) else { return nil }
        return try openReadContact(sealed, tag: tag)
    }

    /// The sealed `contact` row of `tag`, read after the table's digest is checked: an older copy of a contact row (its
    /// key before a change was verified or accepted) opens like the current one (a hostile review). Once per connection.
    /// A row the name index finds needs no check of the index (every caller opens it under `tag`, its associated data,
    /// and the digest leaves one row per tag), so `PRAGMA integrity_check`, a second pass over the table, waits for a
    /// name the index does not find: only then could an edited index be hiding its row.
    func sealedContactRow(_ db: Database, tag: [UInt8]) throws -> Data? {
        try requireIntact(db, Self.contactTable, indexes: false)
        let lookup = try db.cachedStatement(sql: "SELECT sealed FROM contact WHERE name_tag = ?")
        if let sealed = try Data.fetchOne(lookup, arguments: [Data(tag)]) { return sealed }
        try requireIntact(db, Self.contactTable)
        return try Data.fetchOne(lookup, arguments: [Data(tag)])
    }

    /// Opens a contact row read under `tag`, remembering it when this operation keeps the contacts it reads.
    private func openReadContact(_ sealed: Data, tag: [UInt8]) throws -> Contact {
        let contact = try decodeContact(sealed, tag: tag)
        if contactsSeen != nil { contactsSeen?[contact.id] = contact }
        return contact
    }

    /// The contacts named `names`, in order (nil for a name with no contact).
    func fetchContacts(_ db: Database, named names: [String]) throws -> [Contact?] {
        var out: [Contact?] = []
        out.reserveCapacity(names.count)
        try forEachContact(db, named: names) { _, contact in out.append(contact) }
        return out
    }

    /// Hands the contact of each of `names` (nil for a name with no contact) to `body`, in order, so the first name that
    /// fails (a damaged row, or whatever `body` throws) throws, as one lookup per name would.
    func forEachContact(_ db: Database, named names: [String], _ body: (_ name: String, _ contact: Contact?) throws -> Void) throws {
        for (name, opened) in zip(names, try openedContacts(db, named: names)) { try body(name, try opened.get()) }
    }

    /// The contacts named `names`, in order, each looked up and opened with its outcome kept for its name's turn (so an
    /// error comes out where one lookup per name would throw it). A list that is long next to the contact table (a room
    /// of thousands made from a members file) is read in one pass over the table instead of one lookup per name, which
    /// costs several times more per row than stepping through them; both find the same rows.
    private func openedContacts(_ db: Database, named names: [String]) throws -> [Result<Contact?, any Error>] {
        let tags = try names.map { try contactTag(db, $0) }
        // The count only picks the way (an index may answer it); each way checks what it reads.
        if try names.count < 64 || names.count * 4 < (Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM contact")) ?? 0) {
            try requireIntact(db, Self.contactTable)
            return tags.map { tag in Result { try fetchContact(db, tag: tag) } }
        }
        // The pass below reads the table itself, never an index: the rows' digest is all it rests on, so the indexes
        // are left to be checked by the first lookup that uses them.
        try requireIntact(db, Self.contactTable, indexes: false)
        var wanted: [TagKey: [Int]] = [:]
        wanted.reserveCapacity(names.count)
        for (i, tag) in tags.enumerated() { wanted[TagKey(tag), default: []].append(i) }
        var out = [Result<Contact?, any Error>](repeating: .success(nil), count: names.count)
        // Blob tags only: `name_tag = ?` with a blob matches nothing else, so a tag stored as text is found by neither.
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT name_tag, sealed FROM contact WHERE typeof(name_tag) = 'blob'"))
        while let row = try rows.next() {
            guard let tag = (row[0] as Data?).map(Array.init), let positions = wanted[TagKey(tag)],
                  let sealed = row[1] as Data? else { continue }
            let opened = Result<Contact?, any Error> { try openReadContact(sealed, tag: tag) }
            for i in positions { out[i] = opened }
        }
        return out
    }

    /// True for a card that is exactly the current card of a contact read in this operation: it was verified when its
    /// contact row was stored, and the sealed row authenticates it since.
    func storedContactCard(_ card: IdentityCard) -> Bool {
        contactsSeen?[card.id]?.card.encoded == card.encoded
    }

    /// Adds verified cards in one transaction; `name` renames a single card. A name or handle that looks like a known
    /// one (see `lookalikes`) is refused unless `allowConfusable`, and then reported in the result.
    public func addContacts(_ cards: [IdentityCard], as name: String?, allowConfusable: Bool = false) throws -> [ContactAddResult] {
        if cards.isEmpty { throw ContactError.noCards }
        if name != nil, cards.count > 1 { throw ContactError.nameForManyCards(count: cards.count) }
        if let name { try Handle.validateNew(name, what: "contact name") }
        for card in cards { try Handle.validateNew(card.handle, what: "handle of card \(card.id.shortHex)") }
        let own = try identityCard().id
        var seen: [String: IdentityID] = [:]
        for card in cards {
            if card.id == own { throw ContactError.ownCard }
            let key = name ?? card.handle
            if let other = seen[key], other != card.id { throw ContactError.conflictingCards(name: key) }
            seen[key] = card.id
        }
        let found = try lookalikes(cards, as: name, own: try identityCard())
        if !allowConfusable, let first = cards.lazy.compactMap({ found[$0.id] }).first {
            throw ContactError.lookalike(descriptions: first)
        }
        let time = now()
        try automaticPrune()
        return try write { db in
            var formers = try historyNames(db)
            let results = try cards.map { card in
                var result = try addContact(db, card, name: name ?? card.handle, time: time, formers: &formers)
                result.lookalikes = found[card.id] ?? []
                return result
            }
            // A version 2 card stored for the first time counts too: a member of a room on a version 1 roster card,
            // who was not a contact, got this member's key in a kind 1 stanza (a review: no new key followed).
            try noteMembersUpgraded(db, Set(zip(cards, results).compactMap { card, result in
                result.outcome == .upgraded || (result.outcome == .added && card.isPostQuantum) ? result.id : nil
            }))
            return results
        }
    }

    /// Stores what `ContactAdmission` decides for `card` under `name`.
    private func addContact(_ db: Database, _ card: IdentityCard, name: String, time: UInt64,
                            formers: inout [IdentityID: String]) throws -> ContactAddResult {
        // Read here, not through `fetchContact(db, id:)`, whose per-operation cache does not see this write's rows.
        var holder: Contact?
        if let holderTag = try Data.fetchOne(db.cachedStatement(sql: "SELECT name_tag FROM contact WHERE id_tag = ? ORDER BY name_tag LIMIT 1"),
                                             arguments: [Data(idTag(card.id))]) {
            holder = try fetchContact(db, tag: Array(holderTag))
            guard holder?.id == card.id else { throw KeyringError.integrityFailure(table: Self.contactTable) }
        }
        let requested = try fetchContact(db, tag: nameTag(name))
        // Looked up only when the card would change the key of the contact under the name (a bulk add of new cards reads
        // no tenure).
        var member: ContactAdmission.Membership?
        if holder == nil, let requested, requested.card.signingKey != card.signingKey {
            member = try membership(db, of: card.id)
        }
        let decision = ContactAdmission.decide(card: card, name: name, stored: requested?.card,
                                               holder: holder.map { ($0.name, $0.card) }, former: formers[card.id], member: member)
        let name = decision.name
        let tag = nameTag(name)
        let existing = name == holder?.name ? holder : requested
        switch decision.action {
        case let .alreadyKnown(as: other):
            return ContactAddResult(name: name, id: card.id, outcome: .alreadyKnown(as: other))
        case let .roomMember(handle):
            return ContactAddResult(name: name, id: card.id, outcome: .roomMember(handle: handle))
        case .unchanged:
            return ContactAddResult(name: name, id: card.id, outcome: .unchanged)
        case .add:
            try storeContact(db, Contact(name: name, card: card, verified: false, keyChanged: false, added: time))
            try audit(db, .contactAdd, "\(Self.auditName(name)) \(card.id)")
            return ContactAddResult(name: name, id: card.id, outcome: .added)
        case let .update(upgrade, keepsVerified):
            guard let existing else { throw IntegrityError.edited("a contact row vanished while it was read") }
            // The same identity key re-issued its card: keep every decision made about that key (but a confirmed safety
            // number, when the handle in it changed).
            let accepted = try openContactRecord(Array(try sealedContactRow(db, tag: tag) ?? Data()), tag: tag).accepted
            try storeContact(db, Contact(name: name, card: card, verified: existing.verified && keepsVerified,
                                         keyChanged: existing.keyChanged, added: existing.added), accepted: accepted)
            // A newer card of the same key changes the keyring too, and is in the audit log (an interop review).
            try audit(db, .contactAdd, "\(Self.auditName(name)) \(card.id) " + (upgrade ? "upgraded to card v2" : "card of \(card.created) replaces one of \(existing.card.created)"))
            return ContactAddResult(name: name, id: card.id, outcome: upgrade ? .upgraded : .updated)
        case let .keyChange(previous):
            guard let existing else { throw IntegrityError.edited("a contact row vanished while it was read") }
            try recordHistory(db, name: name, card: existing.card, time: time)
            formers[existing.card.id] = formers[existing.card.id] ?? name
            try storeContact(db, Contact(name: name, card: card, verified: false, keyChanged: true, added: existing.added))
            try audit(db, .contactKeyChange, "\(Self.auditName(name)) \(previous) -> \(card.id)")
            return ContactAddResult(name: name, id: card.id, outcome: .keyChanged(previous: previous))
        }
    }

    private func recordHistory(_ db: Database, name: String, card: IdentityCard, time: UInt64) throws {
        let rowID = random.bytes(16)
        let record = ContactHistoryRecord(name: name, card: card.text, replaced: time)
        let sealed = try rows.seal(record: record, table: Self.historyTable, primaryKey: rowID)
        try db.cachedStatement(sql: "INSERT INTO contact_key_history (row_id, name_tag, sealed) VALUES (?, ?, ?)").execute(
                       arguments: [Data(rowID), Data(nameTag(name)), Data(sealed)])
    }

    /// Every contact, sorted by name.
    public func contacts() throws -> [Contact] {
        let rows = try read { db in
            try requireIntact(db, Self.contactTable)
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT name_tag, sealed FROM contact"))
        }
        return try rows.map { row in try decodeContact(Data(try row.blob("sealed", table: "contact")), tag: try row.blob("name_tag", table: "contact")) }
            .sorted { $0.name < $1.name }
    }

    /// Every contact's identity id, name and handle, for comparing a new name with: the sealed rows are opened, but
    /// card signatures (checked before a card is stored) are not checked again, so this costs a fraction of `contacts()`.
    func contactNames() throws -> [(id: IdentityID, name: String, handle: String)] {
        let fetched = try read { db in
            try requireIntact(db, Self.contactTable)
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT name_tag, sealed FROM contact"))
        }
        return try fetched.map { row in
            let record = try openContactRecord(try row.blob("sealed", table: Self.contactTable),
                                               tag: try row.blob("name_tag", table: Self.contactTable))
            return (record.card.id, record.name, record.card.handle)
        }
    }

    /// The contact called `name`.
    public func contact(named name: String) throws -> Contact {
        guard let c = try read({ db in try fetchContact(db, tag: try contactTag(db, name)) }) else { throw ContactError.notFound(name: name) }
        return c
    }

    /// Earlier cards of the contact `name` that key changes replaced, oldest first.
    public func keyHistory(named name: String) throws -> [(card: IdentityCard, replaced: UInt64)] {
        try read { db in try keyHistory(db, named: name) }
    }

    /// The name tags of the contacts that have a key history (an older identity key).
    func contactTagsWithHistory(_ db: Database) throws -> [[UInt8]] {
        try requireIntact(db, Self.historyTable)
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT name_tag FROM contact_key_history")).map { Array($0) }
    }

    func keyHistory(_ db: Database, named name: String) throws -> [(card: IdentityCard, replaced: UInt64)] {
        // offboard, room remove NAME, room replace and room add's "already in under an older key" rest on these rows: a
        // deleted (or older) history row left a contact's old key in every room offboard went through.
        try requireIntact(db, Self.historyTable)
        let sealed = try Row.fetchAll(db.cachedStatement(sql: "SELECT row_id, sealed FROM contact_key_history WHERE name_tag = ?"),
                                      arguments: [Data(try contactTag(db, name))])
        return try sealed.map { row in
            let record = try rows.open(ContactHistoryRecord.self, try row.blob("sealed", table: Self.historyTable), table: Self.historyTable,
                                       primaryKey: try row.blob("row_id", table: Self.historyTable))
            guard let card = try? IdentityCard.parsed(text: record.card) else { throw KeyringError.integrityFailure(table: Self.historyTable) }
            return (card, record.replaced)
        }.sorted { $0.replaced < $1.replaced }
    }

    /// Every card in key history with the name it was replaced under (checked against the table's digest first).
    func historyCards(_ db: Database) throws -> [(name: String, card: IdentityCard)] {
        try requireIntact(db, Self.historyTable)
        return try Row.fetchAll(db.cachedStatement(sql: "SELECT row_id, sealed FROM contact_key_history")).map { row in
            let record = try rows.open(ContactHistoryRecord.self, try row.blob("sealed", table: Self.historyTable), table: Self.historyTable,
                                       primaryKey: try row.blob("row_id", table: Self.historyTable))
            guard let card = try? IdentityCard.parsed(text: record.card) else { throw KeyringError.integrityFailure(table: Self.historyTable) }
            return (record.name, card)
        }
    }

    /// The name whose key history holds each identity (one of them, when several do).
    func historyNames(_ db: Database) throws -> [IdentityID: String] {
        var names: [IdentityID: String] = [:]
        for (name, card) in try historyCards(db) where names[card.id] == nil { names[card.id] = name }
        return names
    }

    /// The version 2 cards kept in key history, by identity id (the newest of each): a member whose contact's current
    /// card is of another key (a key change, forged or not) keeps the upgrade it made under its own key (a review: a
    /// forged card, merely added, sent every later stanza of that member sealed with X25519 alone). The table is as
    /// small as the key changes this keyring saw; it is read once per listing or bundle.
    func historyUpgrades(_ db: Database) throws -> [IdentityID: IdentityCard] {
        var cards: [IdentityID: IdentityCard] = [:]
        for (_, card) in try historyCards(db) where card.isPostQuantum {
            if let known = cards[card.id], known.created >= card.created { continue }
            cards[card.id] = card
        }
        return cards
    }

    /// Removes the contact `name` and its key history.
    public func removeContact(named name: String) throws {
        try automaticPrune()
        try write { db in
            contactsSeen = nil
            let tag = Data(try contactTag(db, name))
            if let contact = try fetchContact(db, tag: Array(tag)) {
                try noteContactChange(db, [contact.id] + keyHistory(db, named: contact.name).map(\.card.id))
            }
            try db.cachedStatement(sql: "DELETE FROM contact WHERE name_tag = ?").execute(arguments: [tag])
            if db.changesCount == 0 { throw ContactError.notFound(name: name) }
            try db.cachedStatement(sql: "DELETE FROM contact_key_history WHERE name_tag = ?").execute(arguments: [tag])
            try db.cachedStatement(sql: "DELETE FROM contact_alert WHERE name_tag = ?").execute(arguments: [tag])
            try audit(db, .contactRemove, Self.auditName(name))
        }
    }
}

extension Keyring {
    /// The name tag of the contact `token` names: for 32 hex digits that are a contact's identity id, that contact
    /// (commands take an id wherever they take a name: CLI.md, "Names people can trust"); otherwise by its name.
    func contactTag(_ db: Database, _ token: String) throws -> [UInt8] {
        // An id first, as a members file (`declaredCard`) and `resolveMember` read it (227082c): in a keyring made before
        // 32-hex names were refused, a stranger whose handle was bob's id must never stand for bob's id.
        guard token.utf8.count == 32, let bytes = try? Hex.decode(token, what: "id"), let id = try? IdentityID(bytes: bytes),
              let contact = try fetchContact(db, id: id) else { return nameTag(token) }
        return nameTag(contact.name)
    }

    /// The contact whose current identity is `id`, if any (one indexed read).
    func fetchContact(_ db: Database, id: IdentityID) throws -> Contact? {
        if let seen = contactsSeen?[id] { return seen }
        // Unlike a name, an id can belong to two contacts (a contact given another's card as a key change): the index
        // must list every row of the id, so it is checked first, and of two rows the one with the lower name tag (a
        // value the digest covers) is meant, never the lower rowid, which an edit can change unseen (a hostile review).
        try requireIntact(db, Self.contactTable)
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT name_tag, sealed FROM contact WHERE id_tag = ? ORDER BY name_tag LIMIT 1"),
                                         arguments: [Data(idTag(id))]) else {
            return nil
        }
        let contact = try decodeContact(Data(try row.blob("sealed", table: Self.contactTable)),
                                        tag: try row.blob("name_tag", table: Self.contactTable))
        // id_tag is an index outside the sealed row: trust it only if the row agrees.
        guard contact.id == id else { throw KeyringError.integrityFailure(table: Self.contactTable) }
        return contact
    }
}
