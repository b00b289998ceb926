import CSodium

/// Errors raised by the crypto layer; each names what was expected and what was found.
public enum CryptoError: Error, Equatable, Sendable {
    /// libsodium could not be initialised.
    case initializationFailed
    /// A key, nonce or other fixed-size input had the wrong length.
    case invalidLength(what: String, expected: Int, found: Int)
    /// An authenticated ciphertext did not verify (wrong key, wrong associated data or tampering).
    case authenticationFailed
    /// A signature did not verify under the given public key.
    case signatureInvalid
    /// A stanza (sealed box, or X-Wing HPKE box) could not be opened with this key pair.
    case sealedBoxOpenFailed
    /// An Ed25519 public key could not be converted to X25519 (not a valid point).
    case keyConversionFailed
    /// Argon2id could not run with the requested limits (usually out of memory).
    case passwordHashFailed
    /// A libsodium call returned an unexpected failure.
    case operationFailed(String)
    /// A public key of the right length that nothing can be sealed to (what is wrong with it).
    case unusablePublicKey(String)
}

/// One-time libsodium initialisation, shared by every wrapper.
package enum Sodium {
    private static let status: Int32 = sodium_init()

    /// Ensures `sodium_init` has run; throws if the library could not start.
    package static func ready() throws(CryptoError) {
        if status < 0 { throw .initializationFailed }
    }

    /// Runs `sodium_init` if it has not run yet, for wrappers that cannot report a failure
    /// (a failed initialisation still leaves libsodium's portable implementations usable).
    package static func prepare() { _ = status }

    /// Checks that `count` equals `expected`, naming `what` in the error.
    package static func checkLength(_ what: String, _ count: Int, _ expected: Int) throws(CryptoError) {
        if count != expected { throw .invalidLength(what: what, expected: expected, found: count) }
    }
}
