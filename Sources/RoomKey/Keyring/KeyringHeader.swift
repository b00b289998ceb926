import Foundation
import GRDB
import RoomKeyCore

/// How the keyring key is protected at rest: the single `keyring_header` row.
///
/// With `kdf = "argon2id13"` the 32-byte keyring key is sealed with XChaCha20-Poly1305 under
/// `Argon2id(passphrase, salt, ops_limit, mem_limit)`, with associated data
/// `"roomkey/keyring-key/v1" 00 || kdf || 00 || ops_limit (u64 BE) || mem_limit (u64 BE) || salt`.
/// With `kdf = "none"` (`init --no-passphrase`) `wrapped_key` is the raw key.
struct KeyringHeader: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "keyring_header"
    static let currentFormat = 1
    static let argon2id = "argon2id13"
    static let none = "none"
    static let wrapDomain = Array("roomkey/keyring-key/v1".utf8) + [0]

    var id = 1
    var format: Int
    var kdf: String
    var opsLimit: Int64
    var memLimit: Int64
    var salt: Data
    var wrappedKey: Data

    enum CodingKeys: String, CodingKey {
        case id, format, kdf, salt
        case opsLimit = "ops_limit", memLimit = "mem_limit", wrappedKey = "wrapped_key"
    }

    private var associatedData: [UInt8] {
        var w = ByteWriter()
        w.write(Self.wrapDomain + Array(kdf.utf8) + [0])
        w.writeU64(UInt64(opsLimit))
        w.writeU64(UInt64(memLimit))
        w.write(Array(salt))
        return w.bytes
    }

    /// A header storing `key` unwrapped.
    static func unprotected(_ key: borrowing SymmetricKey) -> KeyringHeader {
        KeyringHeader(format: currentFormat, kdf: none, opsLimit: 0, memLimit: 0, salt: Data(),
                      wrappedKey: key.bytes.withUnsafeBytes { Data($0) })
    }

    /// A header wrapping `key` under `passphrase` with a fresh salt.
    static func protected(_ key: borrowing SymmetricKey, passphrase: borrowing SecretBytes, limits: KDFLimits,
                          random: any RandomSource) throws -> KeyringHeader {
        var header = KeyringHeader(format: currentFormat, kdf: argon2id, opsLimit: Int64(limits.opsLimit),
                                   memLimit: Int64(limits.memLimit), salt: Data(random.bytes(Argon2id.saltLength)), wrappedKey: Data())
        let kek = try Argon2id.deriveKey(passphrase: passphrase, salt: Array(header.salt), opsLimit: limits.opsLimit,
                                         memLimit: limits.memLimit)
        header.wrappedKey = Data(XChaCha20Poly1305.seal(key.bytes, key: kek, ad: header.associatedData, random: random))
        return header
    }

    /// True when unlocking needs a passphrase.
    var needsPassphrase: Bool { kdf != Self.none }

    /// Recovers the keyring key; `passphrase` is asked for only when the header needs one.
    func unwrap(passphrase: () throws -> SecretBytes) throws -> SymmetricKey {
        guard format == Self.currentFormat else { throw KeyringError.unsupportedHeader(reason: "format \(format)") }
        switch kdf {
        case Self.none:
            guard wrappedKey.count == SymmetricKey.length else { throw KeyringError.unsupportedHeader(reason: "bad key length") }
            var copy = Array(wrappedKey)
            return try SymmetricKey(SecretBytes(consuming: &copy))
        case Self.argon2id:
            // Every stored parameter is checked before the passphrase is asked for: a header edited to absurd limits or
            // a short salt is refused without a prompt (a review: the limits were checked only after it).
            guard opsLimit > 0, memLimit > 0, (Argon2id.minOpsLimit...Argon2id.maxOpsLimit).contains(UInt64(opsLimit)),
                  (Argon2id.minMemLimit...Argon2id.maxMemLimit).contains(UInt64(memLimit)) else {
                throw KeyringError.unsupportedHeader(reason: "argon2id limits out of range")
            }
            guard salt.count == Argon2id.saltLength else { throw KeyringError.unsupportedHeader(reason: "argon2id salt of \(salt.count) bytes") }
            // A wrapped key of another length is a damaged header, not a wrong passphrase (review r).
            let wrappedLength = SymmetricKey.length + XChaCha20Poly1305.overhead
            guard wrappedKey.count == wrappedLength else {
                throw KeyringError.unsupportedHeader(reason: "wrapped key of \(wrappedKey.count) bytes (expected \(wrappedLength))")
            }
            let secret = try passphrase()
            let kek = try Argon2id.deriveKey(passphrase: secret, salt: Array(salt), opsLimit: UInt64(opsLimit), memLimit: UInt64(memLimit))
            do {
                return try SymmetricKey(XChaCha20Poly1305.openSecret(Array(wrappedKey), key: kek, ad: associatedData))
            } catch {
                throw KeyringError.wrongPassphrase
            }
        default:
            throw KeyringError.unsupportedHeader(reason: "unknown kdf \"\(kdf)\"")
        }
    }
}
