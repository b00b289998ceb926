import Foundation
import GRDB
import RoomKeyCore

/// The keyring owner's identity: signing, sealing and (version 2) X-Wing key pairs and the self-signed card.
public struct LocalIdentity: ~Copyable {
    /// The Ed25519 identity key pair.
    public let signing: SigningKeyPair
    /// The X25519 sealing key pair.
    public let sealing: SealingKeyPair
    /// The X-Wing key pair of a version 2 identity (nil for an identity made before post-quantum stanzas, until upgraded).
    public let xwing: XWingKeyPair?
    /// The self-signed card others import.
    public let card: IdentityCard

    /// The identity id.
    public var id: IdentityID { card.id }
}

extension Keyring {
    static let identityTable = "identity"
    static let identityKey: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
    static let identityRowVersion: UInt8 = 1
    static let identityRowVersionPQ: UInt8 = 2

    /// Generates a version 2 identity and inserts its sealed row.
    func insertNewIdentity(_ db: Database, handle: String) throws {
        let signing = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate()
        let xwing = try XWingKeyPair.generate()
        let card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, xwingKey: xwing.publicKey,
                                    created: now())
        try writeIdentity(db, signing: signing, sealing: sealing, xwing: xwing.exportSeed(), card: card, insert: true)
    }

    /// Writes the identity row. Plaintext, version 1: `01 | Ed25519 secret key (64) | X25519 secret key (32) |
    /// card length (u16 BE) | card`; version 2 (with `xwing`): `02 | Ed25519 secret key (64) | X25519 secret key (32) |
    /// X-Wing seed (32) | card length (u16 BE) | card`. An empty `xwing` seed writes version 1.
    private func writeIdentity(_ db: Database, signing: borrowing SigningKeyPair, sealing: borrowing SealingKeyPair,
                               xwing pqSeed: consuming SecretBytes, card: IdentityCard, insert: Bool) throws {
        let cardBytes = card.encoded
        let signingSecret = signing.exportSecretKey()
        let sealingSecret = sealing.exportSecretKey()
        let version = pqSeed.count == 0 ? Self.identityRowVersion : Self.identityRowVersionPQ
        let plain = SecretBytes(count: 1 + SigningKeyPair.secretLength + SealingKeyPair.secretLength + pqSeed.count + 2 + cardBytes.count) { buf in
            var offset = 0
            func put(_ src: UnsafeRawBufferPointer) {
                if src.count > 0 { buf.baseAddress!.advanced(by: offset).copyMemory(from: src.baseAddress!, byteCount: src.count) }
                offset += src.count
            }
            [version].withUnsafeBytes(put)
            signingSecret.withUnsafeBytes(put)
            sealingSecret.withUnsafeBytes(put)
            pqSeed.withUnsafeBytes(put)
            [UInt8(cardBytes.count >> 8), UInt8(cardBytes.count & 0xFF)].withUnsafeBytes(put)
            cardBytes.withUnsafeBytes(put)
        }
        let sealed = plain.withUnsafeBytes { rows.seal($0, table: Self.identityTable, primaryKey: Self.identityKey) }
        if insert {
            try db.cachedStatement(sql: "INSERT INTO identity (id, sealed) VALUES (1, ?)").execute(arguments: [Data(sealed)])
        } else {
            try db.cachedStatement(sql: "UPDATE identity SET sealed = ? WHERE id = 1").execute(arguments: [Data(sealed)])
        }
    }

    /// Loads and unseals the identity.
    public func identity() throws -> LocalIdentity {
        let sealed = try read { db in try sealedIdentityRow(db) }
        guard let sealed else { throw KeyringError.noIdentity }
        return try openIdentity(Array(sealed))
    }

    /// The sealed identity row, read after the table's digest is checked: an older identity row put back (from before
    /// `id upgrade`) would drop the X-Wing key. Once per connection.
    private func sealedIdentityRow(_ db: Database) throws -> Data? {
        try requireIntact(db, "identity")
        return try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM identity WHERE id = 1"))
    }

    /// The layout of an unsealed identity row: `version || signing secret || sealing secret || X-Wing seed (version 2)
    /// || u16 card length || card`, checked; returns the X-Wing seed's length (0 in version 1) and the card's bytes.
    private func identityLayout(_ plain: borrowing SecretBytes) throws -> (q: Int, cardBytes: [UInt8]) {
        let s = SigningKeyPair.secretLength, x = SealingKeyPair.secretLength
        let version = plain.withUnsafeBytes { $0.isEmpty ? 0 : $0[0] }
        guard version == Self.identityRowVersion || version == Self.identityRowVersionPQ else {
            throw KeyringError.integrityFailure(table: Self.identityTable)
        }
        let q = version == Self.identityRowVersionPQ ? XWingKeyPair.seedLength : 0
        let header = 1 + s + x + q + 2
        let cardBytes = plain.withUnsafeBytes { p -> [UInt8]? in
            guard p.count >= header else { return nil }
            let length = Int(p[header - 2]) << 8 | Int(p[header - 1])
            guard p.count == header + length else { return nil }
            return Array(p[header...])
        }
        guard let cardBytes else { throw KeyringError.integrityFailure(table: Self.identityTable) }
        return (q, cardBytes)
    }

    /// The card of a sealed identity row, without making its key pairs (the X-Wing one costs an ML-KEM key generation).
    private func openIdentityCard(_ sealed: [UInt8]) throws -> IdentityCard {
        let plain = try rows.openSecret(sealed, table: Self.identityTable, primaryKey: Self.identityKey)
        guard let card = try? IdentityCard.parse(try identityLayout(plain).cardBytes) else {
            throw KeyringError.integrityFailure(table: Self.identityTable)
        }
        return card
    }

    /// Opens the sealed identity row (its seal bound to the identity table and key).
    func openIdentity(_ sealed: [UInt8]) throws -> LocalIdentity {
        let plain = try rows.openSecret(sealed, table: Self.identityTable, primaryKey: Self.identityKey)
        let s = SigningKeyPair.secretLength, x = SealingKeyPair.secretLength
        let (q, cardBytes) = try identityLayout(plain)
        let signing = try SigningKeyPair(secretKey: plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[1..<(1 + s)])) })
        let sealing = try SealingKeyPair(secretKey: plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[(1 + s)..<(1 + s + x)])) })
        var xwing: XWingKeyPair? = nil
        var xwingPublic: XWingPublicKey? = nil
        if q > 0 {
            let pair = try XWingKeyPair(seed: plain.withUnsafeBytes {
                SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[(1 + s + x)..<(1 + s + x + q)]))
            })
            xwingPublic = pair.publicKey
            xwing = consume pair
        }
        let card = try IdentityCard.parse(cardBytes)
        guard card.signingKey == signing.publicKey, card.sealingKey == sealing.publicKey, card.xwingKey == xwingPublic else {
            throw KeyringError.integrityFailure(table: Self.identityTable)
        }
        return LocalIdentity(signing: signing, sealing: sealing, xwing: xwing, card: card)
    }

    /// Adds an X-Wing key to a version 1 identity: a new version 2 card with the same handle, identity key and sealing key
    /// (so the same id and safety number), created now. Returns the new card, and whether anything changed (false for
    /// an identity that is already version 2, whose card is returned as it is).
    public func upgradeIdentity() throws -> (card: IdentityCard, upgraded: Bool) {
        try write { db in
            guard let sealed = try sealedIdentityRow(db) else { throw KeyringError.noIdentity }
            let old = try openIdentity(Array(sealed))
            if old.card.isPostQuantum { return (old.card, false) }
            let xwing = try XWingKeyPair.generate()
            let card = try IdentityCard(handle: old.card.handle, signer: old.signing, sealingKey: old.sealing.publicKey,
                                        xwingKey: xwing.publicKey, created: Swift.max(now(), old.card.created))
            try writeIdentity(db, signing: old.signing, sealing: old.sealing, xwing: xwing.exportSeed(), card: card, insert: false)
            try noteEveryRoomChanged(db)
            try audit(db, .identityUpgrade, "\(card.id) card v2")
            return (card, true)
        }
    }

    /// The identity's card, inside a transaction.
    func identityCard(_ db: Database) throws -> IdentityCard {
        guard let sealed = try sealedIdentityRow(db) else { throw KeyringError.noIdentity }
        return try openIdentityCard(Array(sealed))
    }

    /// The identity's public card only (no secret is unsealed into a key pair).
    public func identityCard() throws -> IdentityCard {
        try read { db in try identityCard(db) }
    }
}

extension Keyring {
    /// **For tests only (no command reaches it).** Turns this keyring's identity into a version 1 identity with the
    /// same identity and sealing keys, as a keyring made before post-quantum stanzas holds: tests use it to mix v1 and
    /// v2 members in one room.
    func makeClassicalIdentityForTests() throws {
        try write { db in
            guard let sealed = try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM identity WHERE id = 1")) else { throw KeyringError.noIdentity }
            let old = try openIdentity(Array(sealed))
            let card = try IdentityCard(handle: old.card.handle, signer: old.signing, sealingKey: old.sealing.publicKey,
                                        created: old.card.created)
            try writeIdentity(db, signing: old.signing, sealing: old.sealing, xwing: SecretBytes(zeroed: 0), card: card, insert: false)
        }
    }
}
