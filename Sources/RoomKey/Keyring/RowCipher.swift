import Foundation
import RoomKeyCore

/// Encrypts keyring rows under the row key, binding each to its table and primary key.
///
/// Sealed form: `01 || nonce (24) || ciphertext || tag (16)`, XChaCha20-Poly1305 with
/// associated data `"roomkey/row/v1" 00 || table || 00 || primary key bytes`.
struct RowCipher: ~Copyable {
    static let version: UInt8 = 1
    /// What sealing adds to a row's plaintext: the version byte and the AEAD's nonce and tag.
    static let overhead = 1 + XChaCha20Poly1305.overhead
    static let domain = Array("roomkey/row/v1".utf8) + [0]

    let key: SymmetricKey
    let random: any RandomSource

    static func associatedData(table: String, primaryKey: [UInt8]) -> [UInt8] {
        domain + Array(table.utf8) + [0] + primaryKey
    }

    /// Seals plain bytes for `table` / `primaryKey`.
    func seal(_ plaintext: UnsafeRawBufferPointer, table: String, primaryKey: [UInt8]) -> [UInt8] {
        XChaCha20Poly1305.seal(plaintext, key: key, ad: Self.associatedData(table: table, primaryKey: primaryKey), random: random,
                               prefix: [Self.version])
    }

    /// Seals a Codable record as JSON.
    func seal<T: Encodable>(record: T, table: String, primaryKey: [UInt8]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try encoder.encode(record)
        return json.withUnsafeBytes { seal($0, table: table, primaryKey: primaryKey) }
    }

    /// Opens a sealed row into secret bytes; any mismatch is an integrity failure.
    func openSecret(_ sealed: [UInt8], table: String, primaryKey: [UInt8]) throws(KeyringError) -> SecretBytes {
        guard sealed.first == Self.version else { throw .integrityFailure(table: table) }
        do {
            return try XChaCha20Poly1305.openSecret(sealed, from: 1, key: key, ad: Self.associatedData(table: table, primaryKey: primaryKey))
        } catch {
            throw .integrityFailure(table: table)
        }
    }

    /// Opens a sealed row where it lies (a large row read without copying) into a plain array, for contents that are
    /// not key material (rosters); any mismatch is an integrity failure.
    func open(raw sealed: UnsafeRawBufferPointer, table: String, primaryKey: [UInt8]) throws(KeyringError) -> [UInt8] {
        guard sealed.first == Self.version else { throw .integrityFailure(table: table) }
        do {
            return try XChaCha20Poly1305.open(raw: UnsafeRawBufferPointer(rebasing: sealed[1...]), key: key,
                                              ad: Self.associatedData(table: table, primaryKey: primaryKey))
        } catch {
            throw .integrityFailure(table: table)
        }
    }

    /// Opens a sealed row holding a JSON record.
    func open<T: Decodable>(_ type: T.Type, _ sealed: [UInt8], table: String, primaryKey: [UInt8]) throws(KeyringError) -> T {
        let plain = try openSecret(sealed, table: table, primaryKey: primaryKey)
        do {
            return try plain.withUnsafeBytes { try JSONDecoder().decode(T.self, from: Data($0)) }
        } catch {
            throw .integrityFailure(table: table)
        }
    }
}
