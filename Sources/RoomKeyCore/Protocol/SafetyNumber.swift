/// Signal's numeric fingerprint ("safety number") between two identities, computed exactly as libsignal's
/// `fingerprint.rs` does: the same 60 digits and crossed scannable form on both sides.
///
/// Per party: `h = SHA-512(00 00 || key || stable_id || key)`, then `iterations - 1` times
/// `h = SHA-512(h || key)`. The first 30 bytes of `h` give 30 digits (six 5-byte big-endian numbers, each
/// `mod 100000` as `%05d`); the string-smaller half comes first. The first 32 bytes of `h` are the party's half
/// of the scannable form. roomkey uses `key = 05 || X25519 form of the Ed25519 identity key` and
/// `stable_id = the handle's UTF-8 bytes`.
public struct SafetyNumber: Sendable, Equatable {
    /// The iteration count Signal uses in production and in its published vectors.
    public static let iterations = 5200
    /// The scannable version roomkey writes (Signal's service-id version).
    public static let scannableVersion: UInt32 = 2
    /// The length of a fingerprint key: the 0x05 type byte and a 32-byte X25519 public key.
    public static let keyLength = 33
    /// The DJB (Curve25519) key type byte libsignal puts before a public key.
    public static let keyType: UInt8 = 0x05
    /// The number of digits.
    public static let digitCount = 60
    /// The number of digits in one displayed group.
    public static let groupLength = 5

    /// The 60 digits, smaller half first.
    public let digits: String
    /// The 74-byte scannable form from the local party's point of view.
    public let scannable: ScannableFingerprint

    /// The safety number between the keyring owner's card and a contact's card.
    public init(local: IdentityCard, remote: IdentityCard, version: UInt32 = scannableVersion) throws(SafetyNumberError) {
        try self.init(localKey: local.signingKey, localHandle: local.handle, remoteKey: remote.signingKey,
                      remoteHandle: remote.handle, version: version)
    }

    /// The safety number between two Ed25519 identity keys and their handles.
    public init(localKey: SigningPublicKey, localHandle: String, remoteKey: SigningPublicKey, remoteHandle: String,
                version: UInt32 = scannableVersion) throws(SafetyNumberError) {
        try self.init(version: version, localKey: Self.fingerprintKey(localKey), localStableID: Array(localHandle.utf8),
                      remoteKey: Self.fingerprintKey(remoteKey), remoteStableID: Array(remoteHandle.utf8))
    }

    /// libsignal's `Fingerprint::new`: raw 33-byte keys (`05 || X25519`) and stable ids, for Signal's own vectors.
    public init(version: UInt32, iterations: Int = iterations, localKey: [UInt8], localStableID: [UInt8],
                remoteKey: [UInt8], remoteStableID: [UInt8]) throws(SafetyNumberError) {
        let local = try Self.iteratedHash(key: localKey, stableID: localStableID, iterations: iterations)
        let remote = try Self.iteratedHash(key: remoteKey, stableID: remoteStableID, iterations: iterations)
        let localHalf = Self.displayHalf(local), remoteHalf = Self.displayHalf(remote)
        digits = localHalf < remoteHalf ? localHalf + remoteHalf : remoteHalf + localHalf
        scannable = try ScannableFingerprint(version: version,
                                             local: Array(local[0..<ScannableFingerprint.contentLength]),
                                             remote: Array(remote[0..<ScannableFingerprint.contentLength]))
    }

    /// The 33-byte key libsignal hashes: `05 || crypto_sign_ed25519_pk_to_curve25519(identity key)`.
    public static func fingerprintKey(_ identityKey: SigningPublicKey) throws(SafetyNumberError) -> [UInt8] {
        do {
            return [keyType] + (try identityKey.curve25519())
        } catch {
            throw .invalidKey(reason: "the identity key has no X25519 form")
        }
    }

    /// One party's 64-byte iterated SHA-512 (libsignal's `get_fingerprint`).
    public static func iteratedHash(key: [UInt8], stableID: [UInt8], iterations: Int) throws(SafetyNumberError) -> [UInt8] {
        guard key.count == keyLength else { throw .invalidKey(reason: "expected \(keyLength) bytes, found \(key.count)") }
        guard key[0] == keyType else { throw .invalidKey(reason: "the key type byte is not 05") }
        // libsignal refuses 0, 1 and more than a million iterations.
        guard iterations > 1, iterations <= 1_000_000 else { throw .invalidIterations(iterations) }
        var h = SHA512.hash([[0, 0], key, stableID, key])
        for _ in 1..<iterations { h = SHA512.hash([h, key]) }
        return h
    }

    /// Thirty digits from the first 30 bytes of a party's 64-byte hash: six `%05d` chunks of 40-bit big-endian numbers.
    package static func displayHalf(_ hash: [UInt8]) -> String {
        precondition(hash.count >= 30, "called with a 64-byte output of iteratedHash")
        var out = ""
        for chunk in 0..<6 {
            let value = hash[(chunk * 5)..<(chunk * 5 + 5)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let text = String(value % 100_000)
            out += String(repeating: "0", count: groupLength - text.count) + text
        }
        return out
    }

    /// The 12 groups of 5 digits.
    public var groups: [String] {
        stride(from: 0, to: Self.digitCount, by: Self.groupLength).map { start in
            let a = digits.index(digits.startIndex, offsetBy: start)
            return String(digits[a..<digits.index(a, offsetBy: Self.groupLength)])
        }
    }

    /// The number as Signal shows it: 3 lines of 4 groups.
    public var lines: [String] {
        let g = groups
        return stride(from: 0, to: g.count, by: 4).map { g[$0..<($0 + 4)].joined(separator: " ") }
    }

    /// The digits of `typed` with every whitespace character removed (spaces, tabs, line breaks).
    public static func normalized(_ typed: String) -> String {
        String(typed.unicodeScalars.filter { !$0.properties.isWhitespace })
    }

    /// True when `typed` (whitespace ignored) is this number; the digits are compared in constant time.
    public func matches(_ typed: String) -> Bool {
        ConstantTime.equals(Array(Self.normalized(typed).utf8), Array(digits.utf8))
    }
}

/// Errors computing or comparing safety numbers.
public enum SafetyNumberError: Error, Equatable, Sendable {
    /// A fingerprint key is not `05 ||` a 32-byte X25519 key, or an identity key has no X25519 form.
    case invalidKey(reason: String)
    /// The iteration count is outside libsignal's 2...1,000,000.
    case invalidIterations(Int)
    /// A scannable half is not 32 bytes.
    case invalidContentLength(found: Int)
    /// The other party's scannable form has another version (libsignal's `FingerprintVersionMismatch`).
    case versionMismatch(theirs: UInt32, ours: UInt32)
    /// The other party's scannable form is not a valid `CombinedFingerprints` encoding.
    case malformedScannable(reason: String)
}

extension SafetyNumberError: RoomKeyError {
    /// Bad keys and encodings are malformed input; a bad iteration count is a programming error.
    public var category: ErrorCategory {
        switch self {
        case .invalidIterations: .failure
        case .invalidKey, .invalidContentLength, .versionMismatch, .malformedScannable: .malformed
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .invalidKey(reason): "invalid fingerprint key: \(reason)"
        case let .invalidIterations(n): "invalid fingerprint iteration count \(n) (allowed: 2 to 1000000)"
        case let .invalidContentLength(found): "a scannable fingerprint half must be 32 bytes, found \(found)"
        case let .versionMismatch(theirs, ours):
            "the scannable fingerprint has version \(theirs), this roomkey compares version \(ours)"
        case let .malformedScannable(reason): "scannable fingerprint is malformed: \(reason)"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .versionMismatch, .malformedScannable: "compare the 60-digit safety number instead"
        default: nil
        }
    }
}
