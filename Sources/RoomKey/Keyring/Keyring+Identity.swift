import Foundation
import GRDB
import RoomKeyCore

/// The keyring owner's identity: signing and sealing key pairs and the self-signed card.
public struct LocalIdentity: ~Copyable {
    /// The Ed25519 identity key pair.
    public let signing: SigningKeyPair
    /// The X25519 sealing key pair.
    public let sealing: SealingKeyPair
    /// The self-signed card others import.
    public let card: IdentityCard

    /// The identity id.
    public var id: IdentityID { card.id }
}

extension Keyring {
    static let identityTable = "identity"
    static let identityKey: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
    static let identityRowVersion: UInt8 = 1

    /// Generates the identity and inserts its sealed row. Row plaintext:
    /// `01 | Ed25519 secret key (64) | X25519 secret key (32) | card length (u16 BE) | card`.
    func insertNewIdentity(_ db: Database, handle: String) throws {
        let signing = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate()
        let card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: now())
        let cardBytes = card.encoded
        let signingSecret = signing.exportSecretKey()
        let sealingSecret = sealing.exportSecretKey()
        let plain = SecretBytes(count: 1 + SigningKeyPair.secretLength + SealingKeyPair.secretLength + 2 + cardBytes.count) { buf in
            var offset = 0
            func put(_ src: UnsafeRawBufferPointer) {
                buf.baseAddress!.advanced(by: offset).copyMemory(from: src.baseAddress!, byteCount: src.count)
                offset += src.count
            }
            [Self.identityRowVersion].withUnsafeBytes(put)
            signingSecret.withUnsafeBytes(put)
            sealingSecret.withUnsafeBytes(put)
            [UInt8(cardBytes.count >> 8), UInt8(cardBytes.count & 0xFF)].withUnsafeBytes(put)
            cardBytes.withUnsafeBytes(put)
        }
        let sealed = plain.withUnsafeBytes { rows.seal($0, table: Self.identityTable, primaryKey: Self.identityKey) }
        try db.execute(sql: "INSERT INTO identity (id, sealed) VALUES (1, ?)", arguments: [Data(sealed)])
    }

    /// Loads and unseals the identity.
    public func identity() throws -> LocalIdentity {
        let sealed = try read { db in try Data.fetchOne(db, sql: "SELECT sealed FROM identity WHERE id = 1") }
        guard let sealed else { throw KeyringError.noIdentity }
        let plain = try rows.openSecret(Array(sealed), table: Self.identityTable, primaryKey: Self.identityKey)
        let s = SigningKeyPair.secretLength, x = SealingKeyPair.secretLength
        let header = 1 + s + x + 2
        let (version, cardBytes) = plain.withUnsafeBytes { p -> (UInt8, [UInt8]) in
            guard p.count >= header else { return (0, []) }
            let length = Int(p[1 + s + x]) << 8 | Int(p[2 + s + x])
            guard p.count == header + length else { return (0, []) }
            return (p[0], Array(p[header...]))
        }
        guard version == Self.identityRowVersion else { throw KeyringError.integrityFailure(table: Self.identityTable) }
        let signing = try SigningKeyPair(secretKey: plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[1..<(1 + s)])) })
        let sealing = try SealingKeyPair(secretKey: plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[(1 + s)..<(1 + s + x)])) })
        let card = try IdentityCard.parse(cardBytes)
        guard card.signingKey == signing.publicKey, card.sealingKey == sealing.publicKey else {
            throw KeyringError.integrityFailure(table: Self.identityTable)
        }
        return LocalIdentity(signing: signing, sealing: sealing, card: card)
    }

    /// The identity's public card only (no secret is unsealed into a key pair).
    public func identityCard() throws -> IdentityCard {
        let identity = try identity()
        return identity.card
    }
}
