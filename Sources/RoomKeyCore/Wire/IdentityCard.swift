/// A self-signed identity card: handle, Ed25519 identity key, X25519 sealing key, (version 2) X-Wing key, creation time.
///
/// Binary form, version 1: `01 | len(u8) handle | ed25519 pk (32) | x25519 pk (32) | created (u64 BE) | signature (64)`,
/// the signature being Ed25519 over `"roomkey/card/v1" 00 || every byte before it`.
/// Version 2: `02 | len(u8) handle | ed25519 pk (32) | x25519 pk (32) | x-wing pk (1216) | created (u64 BE) | signature (64)`,
/// signed over `"roomkey/card/v2" 00 || every byte before it`.
/// Text form: `roomkey-card-v1:` or `roomkey-card-v2:` (matching the binary version) followed by the binary form in
/// unpadded base64url.
public struct IdentityCard: Hashable, Sendable {
    /// The oldest binary format version this code reads and writes (no X-Wing key).
    public static let version: UInt8 = 1
    /// The post-quantum binary format version (with an X-Wing key).
    public static let versionPQ: UInt8 = 2
    /// The text prefix of a version 1 card.
    public static let textPrefix = "roomkey-card-v1:"
    /// The text prefix of a version 2 card.
    public static let textPrefixV2 = "roomkey-card-v2:"
    /// The largest version 1 binary card (longest handle).
    public static let maxV1BinaryLength = 1 + 1 + Handle.maxBytes + 32 + 32 + 8 + 64
    /// The largest binary card of any version (a version 2 card with the longest handle).
    public static let maxBinaryLength = maxV1BinaryLength + XWingPublicKey.length
    package static let signatureDomain = Array("roomkey/card/v1".utf8) + [0]
    package static let signatureDomainV2 = Array("roomkey/card/v2".utf8) + [0]

    /// The fields, held once: a card is copied in and out of rosters of many thousands, and one reference costs one
    /// retain where seven separate buffers cost seven. The two 32-byte keys and the signature are read from the binary
    /// form when asked for, not kept beside it: a keyring holding 50,000 cards saves three allocations per card.
    private final class Storage: Sendable {
        let handle: String
        let xwingKey: XWingPublicKey?
        let created: UInt64
        let encoded: [UInt8]
        /// Where the identity key starts in `encoded` (after version, handle length and handle).
        let keyOffset: Int

        init(handle: String, xwingKey: XWingPublicKey?, created: UInt64, encoded: [UInt8], keyOffset: Int) {
            self.handle = handle
            self.xwingKey = xwingKey
            self.created = created
            self.encoded = encoded
            self.keyOffset = keyOffset
        }
    }

    private let storage: Storage

    /// The owner's chosen handle.
    public var handle: String { storage.handle }
    /// The Ed25519 identity key that signs everything the owner produces.
    public var signingKey: SigningPublicKey {
        SigningPublicKey(checked: storage.encoded[storage.keyOffset..<(storage.keyOffset + SigningPublicKey.length)])
    }
    /// The X25519 key that version 1 stanzas are sealed to.
    public var sealingKey: SealingPublicKey {
        let start = storage.keyOffset + SigningPublicKey.length
        return SealingPublicKey(checked: storage.encoded[start..<(start + SealingPublicKey.length)])
    }
    /// The X-Wing key that version 2 (post-quantum) stanzas are sealed to; nil in a version 1 card.
    public var xwingKey: XWingPublicKey? { storage.xwingKey }
    /// Creation time, seconds since the Unix epoch.
    public var created: UInt64 { storage.created }
    /// The self-signature.
    public var signature: [UInt8] { Array(storage.encoded.suffix(SigningKeyPair.signatureLength)) }
    /// The binary form, kept because rosters encode and hash many cards.
    public var encoded: [UInt8] { storage.encoded }

    /// The identity id derived from `signingKey`, computed once when the card is made or parsed (rosters of many
    /// thousands look members up by id over and over).
    public let id: IdentityID
    /// The binary format version: 2 with an X-Wing key, else 1.
    public var formatVersion: UInt8 { xwingKey == nil ? Self.version : Self.versionPQ }
    /// True for a version 2 card (it carries an X-Wing key).
    public var isPostQuantum: Bool { xwingKey != nil }

    /// Cards are equal when their binary forms are: every field is read from, or written into, that form.
    public static func == (a: IdentityCard, b: IdentityCard) -> Bool { a.storage === b.storage || a.encoded == b.encoded }
    /// Hashes the binary form.
    public func hash(into hasher: inout Hasher) { hasher.combine(encoded) }

    /// Makes and signs a card for `signer`'s identity: version 2 when `xwingKey` is given, else version 1.
    public init(handle: String, signer: borrowing SigningKeyPair, sealingKey: SealingPublicKey, xwingKey: XWingPublicKey? = nil,
                created: UInt64) throws(WireError) {
        try Handle.validate(handle)
        let body = Self.body(handle, signer.publicKey, sealingKey, xwingKey, created)
        let signature = signer.sign((xwingKey == nil ? Self.signatureDomain : Self.signatureDomainV2) + body)
        self.init(handle: handle, keyOffset: 2 + handle.utf8.count, xwingKey: xwingKey, created: created, encoded: body + signature)
    }

    /// A card from its binary form, whose layout (see the type's comment) the caller has checked; the identity key
    /// starts at `keyOffset`, and the id is derived from it there.
    private init(handle: String, keyOffset: Int, xwingKey: XWingPublicKey?, created: UInt64, encoded: [UInt8], id: IdentityID? = nil) {
        storage = Storage(handle: handle, xwingKey: xwingKey, created: created, encoded: encoded, keyOffset: keyOffset)
        self.id = id ?? IdentityID(signingKey: SigningPublicKey(checked: encoded[keyOffset..<(keyOffset + SigningPublicKey.length)]))
    }

    private static func body(_ handle: String, _ sk: SigningPublicKey, _ xk: SealingPublicKey, _ pq: XWingPublicKey?,
                             _ created: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.writeU8(pq == nil ? version : versionPQ)
        w.writePrefixed(width: 1, Array(handle.utf8))
        w.write(sk.bytes)
        w.write(xk.bytes)
        if let pq { w.write(pq.bytes) }
        w.writeU64(created)
        return w.bytes
    }

    /// The one-line text form.
    public var text: String { TextArmor.encode(encoded, prefix: isPostQuantum ? Self.textPrefixV2 : Self.textPrefix) }

    /// Parses a binary card strictly (version 1 or 2, no trailing byte), without checking its signature.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> IdentityCard {
        try parse(bytes, storedID: nil)
    }

    /// `parse`, taking the card's id as `storedID` instead of deriving it from the identity key: only for a card read
    /// back from this keyring's sealed rows next to the id it was stored with (a large roster is read at every commit,
    /// and deriving each id is one BLAKE2b per member).
    package static func parse(_ bytes: [UInt8], storedID: IdentityID?) throws(WireError) -> IdentityCard {
        if bytes.count > maxBinaryLength { throw .oversized(what: "identity card", limit: maxBinaryLength, found: bytes.count) }
        var r = ByteReader(bytes, what: "identity card")
        let v = try r.readU8("version")
        guard v == version || v == versionPQ else { throw .unknownVersion(what: "identity card", expected: versionPQ, found: v) }
        if v == version, bytes.count > maxV1BinaryLength {
            throw .oversized(what: "identity card", limit: maxV1BinaryLength, found: bytes.count)
        }
        let handleBytes = try r.readPrefixed(width: 1, "handle", range: 1...Handle.maxBytes)
        let handle = try Handle.decode(handleBytes)
        try r.skip(SigningPublicKey.length, "identity key")
        try r.skip(SealingPublicKey.length, "sealing key")
        let pq = v == versionPQ ? try r.read(XWingPublicKey.length, "X-Wing key") : nil
        let created = try r.readU64("creation time")
        try r.skip(SigningKeyPair.signatureLength, "signature")
        try r.finish()
        // Lengths were checked by the reader, so this wrapper cannot fail.
        var xwingKey: XWingPublicKey? = nil
        if let pq {
            guard let key = try? XWingPublicKey(bytes: pq) else { throw .invalid(what: "identity card", reason: "bad key length") }
            xwingKey = key
        }
        return IdentityCard(handle: handle, keyOffset: 2 + handleBytes.count, xwingKey: xwingKey, created: created, encoded: bytes,
                            id: storedID)
    }

    /// Checks the self-signature, and that the card's keys can be sealed to.
    public func verify() throws(CryptoError) {
        try signingKey.verify(signature, over: (isPostQuantum ? Self.signatureDomainV2 : Self.signatureDomain)
                                + encoded.dropLast(SigningKeyPair.signatureLength))
        // A card whose keys nothing can be sealed to would stop every distribution to its room (found by review).
        try sealingKey.checkUsable()
        try xwingKey?.checkUsable()
    }

    /// Parses and verifies a text card (`roomkey-card-v1:` or `roomkey-card-v2:`, the prefix matching the binary version):
    /// malformed text throws `WireError`, a bad signature `CryptoError`.
    public static func verified(text: String) throws -> IdentityCard {
        let card = try parsed(text: text)
        try card.verify()
        return card
    }

    /// Parses a text card like `verified(text:)` but without checking its signature: only for cards that were
    /// verified before they were sealed into the keyring.
    public static func parsed(text: String) throws(WireError) -> IdentityCard {
        let trimmed = text.trimmingWhitespace()
        let isV2 = trimmed.hasPrefix(textPrefixV2)
        // Neither prefix: the error names the one `init` writes, not the old one (which read as if v2 cards were wrong).
        if !isV2, !trimmed.hasPrefix(textPrefix) { throw .wrongPrefix(expected: textPrefixV2) }
        let bytes = try TextArmor.decode(trimmed, prefix: isV2 ? textPrefixV2 : textPrefix, what: "identity card",
                                         maxBytes: isV2 ? maxBinaryLength : maxV1BinaryLength)
        let card = try parse(bytes)
        guard card.isPostQuantum == isV2 else {
            throw .invalid(what: "identity card", reason: "the text prefix does not match card version \(card.formatVersion)")
        }
        return card
    }

    /// The most cards one input may hold.
    public static let maxCardsPerInput = 100_000

    /// Parses and verifies every card in `text`, one per line; blank lines and `#` comments are skipped.
    /// The first bad line throws, naming its line number, so a batch is all or nothing.
    public static func verifiedCards(in text: String) throws -> [IdentityCard] {
        // Counted before any card is parsed or verified: an oversized list is refused at once.
        try EntryLines.requireAtMost(maxCardsPerInput, in: text, what: "card list")
        var cards: [IdentityCard] = []
        for (index, line) in TextLines(text, endsAt: \.isNewline).enumerated() {
            let trimmed = String(line).trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if cards.count == maxCardsPerInput { throw WireError.oversized(what: "card list", limit: maxCardsPerInput, found: cards.count + 1) }
            do {
                let card = try verified(text: trimmed)
                // A handle the new-name rules refuse is named with its line here (the keyring checks again, for
                // callers that pass cards of their own), so that `contact add` says which file and line it came from.
                _ = try Handle.validateNew(card.handle, what: "handle of card \(card.id.shortHex)")
                cards.append(card)
            } catch let error as WireError {
                throw LineError(line: index + 1, underlying: error)
            } catch let error as CryptoError {
                throw LineError(line: index + 1, underlying: error)
            }
        }
        return cards
    }
}

/// An error in one line of a multi-line input, keeping the underlying error's category.
public struct LineError: RoomKeyError {
    /// The 1-based line number.
    public let line: Int
    /// What was wrong with the line.
    public let underlying: any RoomKeyError

    /// Creates a line error.
    public init(line: Int, underlying: any RoomKeyError) {
        self.line = line
        self.underlying = underlying
    }

    /// The underlying error's category.
    public var category: ErrorCategory { underlying.category }
    /// The underlying message, prefixed with the line number.
    public var message: String { "line \(line): \(underlying.message)" }
    /// The underlying hint.
    public var hint: String? { underlying.hint }
}
