import Foundation
import GRDB
import RoomKeyCore

/// What listings need of one contact: its name, trust flags and card.
struct ListedContact {
    /// The contact name.
    let name: String
    /// True once its safety number was confirmed.
    let verified: Bool
    /// True when its key changed and the change is not yet verified or accepted.
    let keyChanged: Bool
    /// Its card's identity key.
    let signingKey: SigningPublicKey
    /// True when its card is version 2.
    let postQuantum: Bool

    init(name: String, verified: Bool, keyChanged: Bool, card: IdentityCard) {
        self.name = name
        self.verified = verified
        self.keyChanged = keyChanged
        signingKey = card.signingKey
        postQuantum = card.isPostQuantum
    }
}

/// Contacts looked up by identity during one pass over many members. When the members are a sizeable share of the
/// contacts, every contact is read in one pass over the table (`scanned`), which costs far less than one indexed read
/// per member; otherwise each member is one indexed read (`fetchContact(_:id:)`).
struct ContactLookup {
    /// Every contact by identity, when the table was read in one pass.
    let scanned: [IdentityID: ListedContact]?
    /// Below this many members, indexed reads are used whatever the number of contacts.
    static let scanFloor = 256
}

extension Keyring {
    /// A lookup for a pass over `members` members: one pass over the contact table when they are at least an eighth of
    /// the contacts (and at least `ContactLookup.scanFloor`), else indexed reads.
    func contactLookup(_ db: Database, members: Int) throws -> ContactLookup {
        guard members >= ContactLookup.scanFloor else { return ContactLookup(scanned: nil) }
        try requireIntact(db, Self.contactTable)
        let count = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM contact")) ?? 0
        guard members * 8 >= count else { return ContactLookup(scanned: nil) }
        var all: [IdentityID: ListedContact] = [:]
        all.reserveCapacity(count)
        let rows = try Row.fetchCursor(db, sql: "SELECT name_tag, id_tag, sealed FROM contact")
        while let row = try rows.next() {
            let record = try openContactRecord(try row.blob("sealed", table: Self.contactTable),
                                               tag: try row.blob("name_tag", table: Self.contactTable))
            let id = record.card.id
            // id_tag is an index outside the sealed row: it must agree with the row, as `fetchContact(_:id:)` requires.
            guard try row.blob("id_tag", table: Self.contactTable) == idTag(id) else { throw KeyringError.integrityFailure(table: Self.contactTable) }
            all[id] = ListedContact(name: record.name, verified: record.verified, keyChanged: record.keyChanged, card: record.card)
        }
        return ContactLookup(scanned: all)
    }

    /// The contact whose current identity is `id`, from `lookup`'s pass or one indexed read.
    func listedContact(_ db: Database, _ id: IdentityID, in lookup: ContactLookup) throws -> ListedContact? {
        if let all = lookup.scanned { return all[id] }
        return try fetchContact(db, id: id).map { ListedContact(name: $0.name, verified: $0.verified, keyChanged: $0.keyChanged, card: $0.card) }
    }
}
