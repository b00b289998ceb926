/// The sealed content of a bundle, after the payload was opened and before anything is trusted.
///
/// Layout: `01 | has sender key (u8, 0 or 1) | sender key (96, if present) | commit count (u32) |
/// per commit: length (u32) || commit bytes`. The payload plaintext is `content || signature (64)`.
public struct BundleContent: ~Copyable {
    /// The content format version.
    public static let version: UInt8 = 1
    /// The most commits one bundle may carry (a whole log).
    public static let maxCommits = 1_000_000

    /// The bundle it came from.
    public let bundle: Bundle
    /// The commits it carries, in order (possibly a whole log from genesis).
    public let commits: [Commit]
    /// The sender's new sender key, if it carries one.
    public let senderKey: SenderKey?
    package let content: SecretBytes
    package let signature: [UInt8]

    /// Opens and parses the payload of `bundle` addressed to `recipient`. The signature is not yet checked:
    /// call `verify(signer:)` with the sender's identity key before using anything.
    public init(opening bundle: Bundle, recipient: IdentityID, keyPair: borrowing SealingKeyPair) throws {
        try self.init(bundle: bundle, opened: try bundle.openPayload(for: recipient, with: keyPair))
    }

    /// As `init(opening:recipient:keyPair:)`, for a recipient with an X-Wing key pair too (a version 2 card): its stanza
    /// may be of either kind.
    public init(opening bundle: Bundle, recipient: IdentityID, keyPair: borrowing SealingKeyPair, xwing: borrowing XWingKeyPair) throws {
        try self.init(bundle: bundle, opened: try bundle.openPayload(for: recipient, with: keyPair, xwing: xwing))
    }

    private init(bundle: Bundle, opened: consuming SecretBytes) throws {
        let sigLength = SigningKeyPair.signatureLength
        guard opened.count >= 2 + 4 + sigLength else {
            throw WireError.truncated(what: "bundle content", needed: 2 + 4 + sigLength, available: opened.count)
        }
        let contentLength = opened.count - sigLength
        let sig = opened.withUnsafeBytes { Array($0[contentLength...]) }
        let (version, hasKey) = opened.withUnsafeBytes { ($0[0], $0[1]) }
        guard version == Self.version else { throw WireError.unknownVersion(what: "bundle content", expected: Self.version, found: version) }
        guard hasKey <= 1 else { throw WireError.invalid(what: "bundle content", reason: "bad sender-key flag") }
        let keyEnd = 2 + (hasKey == 1 ? SenderKey.wireLength : 0)
        guard contentLength >= keyEnd + 4 else { throw WireError.truncated(what: "bundle content", needed: keyEnd + 4, available: contentLength) }
        var parsedKey: SenderKey? = nil
        if hasKey == 1 {
            parsedKey = try opened.withUnsafeBytes { (p) throws(WireError) in
                try SenderKey.read(UnsafeRawBufferPointer(rebasing: p[2..<keyEnd]), roomID: bundle.roomID, owner: bundle.sender)
            }
        }
        var r = ByteReader(opened.withUnsafeBytes { Array($0[keyEnd..<contentLength]) }, what: "bundle content")
        // Carried commits run in consecutive epochs ending at the header's (§5.2), so at most epoch + 1 of them: a larger
        // count is refused before any is parsed (a million empty commits cost a receiver 1.4 GB before any check).
        let count = try r.readCount(width: 4, "commit", limit: bundle.epoch >= UInt64(Self.maxCommits) ? Self.maxCommits : Int(bundle.epoch) + 1)
        var commits: [Commit] = []
        for _ in 0..<count {
            commits.append(try Commit.parse(try r.readPrefixed(width: 4, "commit", range: 1...Commit.maxLength)))
        }
        try r.finish()
        self.commits = commits
        self.bundle = bundle
        self.senderKey = parsedKey
        self.signature = sig
        // Keep the exact content bytes for signature verification.
        self.content = opened.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<contentLength])) }
    }

    /// The description of the carried sender key, if any.
    public var senderKeyInfo: SenderKeyInfo? {
        switch senderKey {
        case let .some(key): key.info
        case .none: nil
        }
    }

    /// Checks the sender's identity signature over header, stanza hash and content.
    public func verify(signer: SigningPublicKey) throws(CryptoError) {
        guard IdentityID(signingKey: signer) == bundle.sender else { throw .signatureInvalid }
        try BundleSealer.signedMessage(header: bundle.headerBytes, stanzaHash: bundle.stanzaHash, content: content) {
            (m) throws(CryptoError) in try signer.verify(signature, over: m)
        }
    }

    /// Builds content bytes carrying a sender key and a list of commits.
    public static func encode(senderKey: borrowing SenderKey, commits: [Commit]) -> SecretBytes {
        encode(keyLength: SenderKey.wireLength, commits: commits) { senderKey.write(into: $0) }
    }

    /// Builds content bytes carrying only commits.
    public static func encode(commits: [Commit]) -> SecretBytes {
        encode(keyLength: 0, commits: commits) { _ in }
    }

    private static func encode(keyLength: Int, commits: [Commit], writeKey: (UnsafeMutableRawBufferPointer) -> Void) -> SecretBytes {
        var tail = ByteWriter()
        tail.writeU32(UInt32(commits.count))
        for c in commits { tail.writePrefixed(width: 4, c.encoded) }
        return SecretBytes(count: 2 + keyLength + tail.bytes.count) { out in
            out[0] = version
            out[1] = keyLength > 0 ? 1 : 0
            writeKey(UnsafeMutableRawBufferPointer(rebasing: out[2..<(2 + keyLength)]))
            UnsafeMutableRawBufferPointer(rebasing: out[(2 + keyLength)...]).copyBytes(from: tail.bytes)
        }
    }
}
