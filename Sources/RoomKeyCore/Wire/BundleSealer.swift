
/// One recipient of a bundle: its id and the keys its card names. With an X-Wing key the stanza is post-quantum (kind 2).
public struct StanzaRecipient: Sendable {
    /// The recipient's identity id.
    public let id: IdentityID
    /// The X25519 sealing key (version 1 stanzas).
    public let sealingKey: SealingPublicKey
    /// The X-Wing key of a version 2 card, if any.
    public let xwingKey: XWingPublicKey?

    /// Creates a recipient.
    public init(id: IdentityID, sealingKey: SealingPublicKey, xwingKey: XWingPublicKey? = nil) {
        self.id = id
        self.sealingKey = sealingKey
        self.xwingKey = xwingKey
    }

    /// The recipient a card describes (post-quantum when it is a version 2 card).
    public init(card: IdentityCard) {
        self.init(id: card.id, sealingKey: card.sealingKey, xwingKey: card.xwingKey)
    }
}

/// Builds bundles: the content is signed once, the bundle key is sealed to every recipient in parallel.
public enum BundleSealer {
    package static let signatureDomain = Array("roomkey/bundle-signature/v1".utf8) + [0]

    /// Seals `content` (see `BundleContent`) for `recipients`, signed by `signer` (the sender's identity key), with
    /// version 1 stanzas only.
    public static func seal(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                            recipients: [(id: IdentityID, key: SealingPublicKey)], content: borrowing SecretBytes,
                            random: any RandomSource) throws(CryptoError) -> [UInt8] {
        try seal(roomID: roomID, epoch: epoch, signer: signer, recipients: recipients.map { StanzaRecipient(id: $0.id, sealingKey: $0.key) },
                 content: content, random: random, stanzaSeeds: nil)
    }

    /// Seals `content` for `recipients`: an X-Wing HPKE stanza for each recipient with an X-Wing key, a sealed box for the
    /// others. The bundle is version 2 when at least one stanza is X-Wing, version 1 otherwise. The sealed boxes take
    /// the key pairs `pool` made ahead, if any.
    public static func seal(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair, recipients: [StanzaRecipient],
                            content: borrowing SecretBytes, random: any RandomSource,
                            pool: consuming EphemeralKeyPool? = nil) throws(CryptoError) -> [UInt8] {
        try seal(roomID: roomID, epoch: epoch, signer: signer, recipients: recipients, content: content, random: random,
                 stanzaSeeds: nil, pool: pool)
    }

    /// **For known-answer tests only; production code never calls this.** `seal`, except that stanza *i*'s sealed box
    /// takes its ephemeral X25519 key pair from `stanzaSeeds[i]` (32 bytes, see
    /// `SealingPublicKey.sealForKnownAnswerTests`) instead of libsodium's RNG, so that with a deterministic `random` the
    /// bundle is reproducible byte for byte.
    package static func sealForKnownAnswerTests(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                                                recipients: [(id: IdentityID, key: SealingPublicKey)],
                                                content: borrowing SecretBytes, random: any RandomSource,
                                                stanzaSeeds: [[UInt8]]) throws(CryptoError) -> [UInt8] {
        try seal(roomID: roomID, epoch: epoch, signer: signer, recipients: recipients.map { StanzaRecipient(id: $0.id, sealingKey: $0.key) },
                 content: content, random: random, stanzaSeeds: stanzaSeeds)
    }

    /// **For known-answer tests only; production code never calls this.** As above with post-quantum recipients: a
    /// sealed-box stanza takes a 32-byte seed, an X-Wing stanza a 64-byte encapsulation seed (`XWingHPKE.sealForKnownAnswerTests`).
    package static func sealForKnownAnswerTests(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                                                recipients: [StanzaRecipient], content: borrowing SecretBytes,
                                                random: any RandomSource, stanzaSeeds: [[UInt8]]) throws(CryptoError) -> [UInt8] {
        try seal(roomID: roomID, epoch: epoch, signer: signer, recipients: recipients, content: content, random: random,
                 stanzaSeeds: stanzaSeeds)
    }

    private static func seal(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                             recipients: [StanzaRecipient], content: borrowing SecretBytes, random: any RandomSource,
                             stanzaSeeds: [[UInt8]]?, pool: consuming EphemeralKeyPool? = nil) throws(CryptoError) -> [UInt8] {
        let sender = IdentityID(signingKey: signer.publicKey)
        let version: UInt8 = recipients.contains { $0.xwingKey != nil } ? 2 : 1
        let header = Bundle.header(roomID: roomID, epoch: epoch, sender: sender, version: version)
        let bundleKey = SymmetricKey.random(using: random)
        // One buffer for the whole bundle: the header, the stanzas sealed where they land, then the payload (content ||
        // signature) sealed where it lands. Building it as `header + stanzas + payload` copied the stanzas once more and
        // kept the stanzas, the plaintext, the payload and the bundle alive at once (24 MB more at the peak of a
        // 50,000-member create).
        let payload = XChaCha20Poly1305.overhead + content.count + SigningKeyPair.signatureLength
        var out: [UInt8]
        if version == 1 {
            out = try sealStanzas(recipients.map { (id: $0.id, key: $0.sealingKey) }, key: bundleKey, ephemeralSeeds: stanzaSeeds,
                                  after: header, reserving: payload, pool: pool)
        } else {
            out = try sealStanzasV2(recipients, key: bundleKey, roomID: roomID, epoch: epoch, seeds: stanzaSeeds, after: header,
                                    reserving: payload, pool: pool)
        }
        let stanzaHash = BLAKE2b.hash(out[header.count...])
        let signature = try signedMessage(header: header, stanzaHash: stanzaHash, content: content) { signer.sign($0) }
        content.withUnsafeBytes { c in
            signature.withUnsafeBytes { s in
                XChaCha20Poly1305.seal(appending: [c, s], to: &out, key: bundleKey, ad: Bundle.adDomain + header + stanzaHash,
                                       random: random)
            }
        }
        return out
    }

    /// Version 2 stanzas: `u32 count || (id || kind || sealed key)*`, after `prefix` in a buffer with room for `reserving`
    /// more bytes; the sealed boxes and the X-Wing seals each run on every core. `seeds` is for known-answer tests only
    /// (nil in production): sealed serially and reproducibly.
    package static func sealStanzasV2(_ recipients: [StanzaRecipient], key: borrowing SymmetricKey, roomID: RoomID, epoch: UInt64,
                                      seeds: [[UInt8]]? = nil, after prefix: [UInt8] = [], reserving extra: Int = 0,
                                      pool: consuming EphemeralKeyPool? = nil) throws(CryptoError) -> [UInt8] {
        let boxBody = Bundle.stanzaLength - IdentityID.length
        let xwingBody = Bundle.stanzaLengthV2XWing - IdentityID.length - 1
        var size = prefix.count + 4 + extra
        for r in recipients { size += r.xwingKey == nil ? Bundle.stanzaLengthV2Box : Bundle.stanzaLengthV2XWing }
        let (emptyBox, emptyXWing) = ([UInt8](repeating: 0, count: boxBody), [UInt8](repeating: 0, count: xwingBody))
        var w = ByteWriter(capacity: size)
        w.write(prefix)
        w.writeU32(UInt32(recipients.count))
        var boxKeys = [UInt8](), boxOffsets: [Int] = [], boxSeeds: [[UInt8]] = []
        var pqKeys: [XWingPublicKey] = [], pqOffsets: [Int] = [], pqInfos: [[UInt8]] = [], pqSeeds: [[UInt8]] = []
        for (i, r) in recipients.enumerated() {
            r.id.write(to: &w)
            if let pq = r.xwingKey {
                w.writeU8(Bundle.StanzaKind.xwing.rawValue)
                pqOffsets.append(w.bytes.count)
                pqKeys.append(pq)
                pqInfos.append(Bundle.stanzaInfo(roomID: roomID, epoch: epoch, recipient: r.id))
                if let seeds { pqSeeds.append(seeds[i]) }
                w.write(emptyXWing)
            } else {
                w.writeU8(Bundle.StanzaKind.sealedBox.rawValue)
                boxOffsets.append(w.bytes.count)
                boxKeys.append(contentsOf: r.sealingKey.bytes)
                if let seeds { boxSeeds.append(seeds[i]) }
                w.write(emptyBox)
            }
        }
        var out = w.take()
        if let seeds {
            guard seeds.count == recipients.count else {
                throw .invalidLength(what: "stanza seeds", expected: recipients.count, found: seeds.count)
            }
            for (j, offset) in pqOffsets.enumerated() {
                let box = try key.bytes.withUnsafeBytes { (k) throws(CryptoError) in
                    try XWingHPKE.sealForKnownAnswerTests(Array(k), to: pqKeys[j], info: pqInfos[j], eseed: pqSeeds[j])
                }
                out.replaceSubrange(offset..<(offset + xwingBody), with: box)
            }
        } else {
            try XWingHPKE.batchSeal(key.bytes, keys: pqKeys, infos: pqInfos, offsets: pqOffsets, into: &out)
        }
        if !boxOffsets.isEmpty {
            // Sealed boxes are laid out at irregular offsets here: seal them densely, then copy each into its slot.
            var dense = [UInt8](repeating: 0, count: boxOffsets.count * boxBody)
            if seeds != nil {
                try BatchSeal.sealForKnownAnswerTests(key.bytes, keys: boxKeys, ephemeralSeeds: boxSeeds, into: &dense, offset: 0,
                                                      stride: boxBody)
            } else {
                try BatchSeal.seal(key.bytes, keys: boxKeys, into: &dense, offset: 0, stride: boxBody, pool: pool)
            }
            for (j, offset) in boxOffsets.enumerated() {
                out.replaceSubrange(offset..<(offset + boxBody), with: dense[(j * boxBody)..<((j + 1) * boxBody)])
            }
        }
        return out
    }

    /// Runs `body` on `domain || header || stanza hash || content`, the bytes the sender signs.
    package static func signedMessage<R>(header: [UInt8], stanzaHash: [UInt8], content: borrowing SecretBytes,
                                 _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> R) throws(CryptoError) -> R {
        let prefix = signatureDomain + header + stanzaHash
        let message = content.withUnsafeBytes { c in
            SecretBytes(count: prefix.count + c.count) { out in
                out.copyBytes(from: prefix)
                UnsafeMutableRawBufferPointer(rebasing: out[prefix.count...]).copyMemory(from: c)
            }
        }
        return try message.withUnsafeBytes { (m) throws(CryptoError) in try body(m) }
    }

    /// `u32 count || (id || crypto_box_seal(key, recipient))*`, after `prefix` in a buffer with room for `reserving` more
    /// bytes, sealed on every core. `ephemeralSeeds` is for known-answer tests only (nil in production): one seed per
    /// recipient, sealed serially and reproducibly.
    package static func sealStanzas(_ recipients: [(id: IdentityID, key: SealingPublicKey)], key: borrowing SymmetricKey,
                                    ephemeralSeeds: [[UInt8]]? = nil, after prefix: [UInt8] = [], reserving extra: Int = 0,
                                    pool: consuming EphemeralKeyPool? = nil) throws(CryptoError) -> [UInt8] {
        // Lay out count and ids with room for each sealed key, then seal every slot at once.
        let emptySlot = [UInt8](repeating: 0, count: Bundle.stanzaLength - IdentityID.length)
        var w = ByteWriter(capacity: prefix.count + 4 + recipients.count * Bundle.stanzaLength + extra)
        w.write(prefix)
        w.writeU32(UInt32(recipients.count))
        var keys = [UInt8]()
        keys.reserveCapacity(recipients.count * SealingPublicKey.length)
        for r in recipients {
            r.id.write(to: &w)
            w.write(emptySlot)
            keys.append(contentsOf: r.key.bytes)
        }
        var out = w.take()
        let first = prefix.count + 4 + IdentityID.length
        if let seeds = ephemeralSeeds {
            try BatchSeal.sealForKnownAnswerTests(key.bytes, keys: keys, ephemeralSeeds: seeds, into: &out,
                                                  offset: first, stride: Bundle.stanzaLength)
        } else {
            try BatchSeal.seal(key.bytes, keys: keys, into: &out, offset: first, stride: Bundle.stanzaLength, pool: pool)
        }
        return out
    }
}
