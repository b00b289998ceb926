
/// Builds bundles: the content is signed once, the bundle key is sealed to every recipient in parallel.
public enum BundleSealer {
    package static let signatureDomain = Array("roomkey/bundle-signature/v1".utf8) + [0]

    /// Seals `content` (see `BundleContent`) for `recipients`, signed by `signer` (the sender's identity key).
    public static func seal(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                            recipients: [(id: IdentityID, key: SealingPublicKey)], content: borrowing SecretBytes,
                            random: any RandomSource) throws(CryptoError) -> [UInt8] {
        try seal(roomID: roomID, epoch: epoch, signer: signer, recipients: recipients, content: content, random: random,
                 stanzaSeeds: nil)
    }

    /// **For known-answer tests only; production code never calls this.** `seal`, except that stanza *i*'s sealed box
    /// takes its ephemeral X25519 key pair from `stanzaSeeds[i]` (32 bytes, see
    /// `SealingPublicKey.sealForKnownAnswerTests`) instead of libsodium's RNG, so that with a deterministic `random` the
    /// bundle is reproducible byte for byte.
    package static func sealForKnownAnswerTests(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                                                recipients: [(id: IdentityID, key: SealingPublicKey)],
                                                content: borrowing SecretBytes, random: any RandomSource,
                                                stanzaSeeds: [[UInt8]]) throws(CryptoError) -> [UInt8] {
        try seal(roomID: roomID, epoch: epoch, signer: signer, recipients: recipients, content: content, random: random,
                 stanzaSeeds: stanzaSeeds)
    }

    private static func seal(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                             recipients: [(id: IdentityID, key: SealingPublicKey)], content: borrowing SecretBytes,
                             random: any RandomSource, stanzaSeeds: [[UInt8]]?) throws(CryptoError) -> [UInt8] {
        let sender = IdentityID(signingKey: signer.publicKey)
        let header = Bundle.header(roomID: roomID, epoch: epoch, sender: sender)
        let bundleKey = SymmetricKey.random(using: random)
        let stanzas = try sealStanzas(recipients, key: bundleKey, ephemeralSeeds: stanzaSeeds)
        let stanzaHash = BLAKE2b.hash([stanzas])
        let signature = try signedMessage(header: header, stanzaHash: stanzaHash, content: content) { signer.sign($0) }
        let plaintext = content.withUnsafeBytes { c in
            SecretBytes(count: c.count + signature.count) { out in
                out.copyMemory(from: c)
                UnsafeMutableRawBufferPointer(rebasing: out[c.count...]).copyBytes(from: signature)
            }
        }
        let payload = XChaCha20Poly1305.seal(plaintext, key: bundleKey, ad: Bundle.adDomain + header + stanzaHash, random: random)
        return header + stanzas + payload
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

    /// `u32 count || (id || crypto_box_seal(key, recipient))*`, sealed on every core. `ephemeralSeeds` is for
    /// known-answer tests only (nil in production): one seed per recipient, sealed serially and reproducibly.
    package static func sealStanzas(_ recipients: [(id: IdentityID, key: SealingPublicKey)], key: borrowing SymmetricKey,
                                    ephemeralSeeds: [[UInt8]]? = nil) throws(CryptoError) -> [UInt8] {
        // Lay out count and ids with room for each sealed key, then seal every slot at once.
        let emptySlot = [UInt8](repeating: 0, count: Bundle.stanzaLength - IdentityID.length)
        var w = ByteWriter(capacity: 4 + recipients.count * Bundle.stanzaLength)
        w.writeU32(UInt32(recipients.count))
        var keys = [UInt8]()
        keys.reserveCapacity(recipients.count * SealingPublicKey.length)
        for r in recipients {
            r.id.write(to: &w)
            w.write(emptySlot)
            keys.append(contentsOf: r.key.bytes)
        }
        var out = w.bytes
        if let seeds = ephemeralSeeds {
            try BatchSeal.sealForKnownAnswerTests(key.bytes, keys: keys, ephemeralSeeds: seeds, into: &out,
                                                  offset: 4 + IdentityID.length, stride: Bundle.stanzaLength)
        } else {
            try BatchSeal.seal(key.bytes, keys: keys, into: &out, offset: 4 + IdentityID.length, stride: Bundle.stanzaLength)
        }
        return out
    }
}
