/// The kinds of failure roomkey distinguishes; the command line maps each to one exit code.
public enum ErrorCategory: String, Sendable, Equatable {
    /// Anything else: I/O, internal (exit 1).
    case failure
    /// A signature, MAC, authority, roster or replay check failed (exit 2).
    case rejected
    /// The keyring is locked: passphrase missing or wrong (exit 3).
    case locked
    /// No such keyring, contact, room, or key (exit 4).
    case notFound = "not-found"
    /// Valid, but waiting for something earlier (exit 5).
    case pending
    /// A valid request the rules do not allow; nothing changed (exit 6).
    case refused
    /// The command was used wrongly (exit 64).
    case usage
    /// Input that cannot be parsed: truncated, oversized, unknown version (exit 65).
    case malformed
}

/// An error that knows its category, a one-line lowercase message and an optional hint.
public protocol RoomKeyError: Error {
    /// Which exit code this error maps to.
    var category: ErrorCategory { get }
    /// One lowercase line without a final period.
    var message: String { get }
    /// A next step for the user, if there is one.
    var hint: String? { get }
}

extension RoomKeyError {
    /// No hint unless the error provides one.
    public var hint: String? { nil }
}

extension CryptoError: RoomKeyError {
    /// Verification failures are rejections; length errors are malformed input.
    public var category: ErrorCategory {
        switch self {
        case .signatureInvalid, .authenticationFailed, .sealedBoxOpenFailed: .rejected
        case .invalidLength, .keyConversionFailed, .unusablePublicKey: .malformed
        case .initializationFailed, .passwordHashFailed, .operationFailed: .failure
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case .initializationFailed: "libsodium could not be initialised"
        case let .invalidLength(what, expected, found): "\(what): expected \(expected) bytes, found \(found)"
        case .authenticationFailed: "authentication failed: wrong key or tampered data"
        case .signatureInvalid: "signature check failed"
        case .sealedBoxOpenFailed: "the stanza (sealed box or X-Wing HPKE) could not be opened with this identity"
        case .keyConversionFailed: "public key is not a valid Ed25519 point"
        case .passwordHashFailed: "argon2id failed (limits out of range or out of memory)"
        case let .operationFailed(what): "crypto operation failed: \(what)"
        case let .unusablePublicKey(what): "unusable public key: \(what)"
        }
    }
}
