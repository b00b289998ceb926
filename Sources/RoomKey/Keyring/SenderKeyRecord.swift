import RoomKeyCore
/// A sender key as the keyring stores it: its description, when it was stored, the signing secret for this member's
/// own keys, and the ratchet state.
///
/// Row plaintext (version 2): `02 | owner (16) | epoch (u64) | generation (u32) | key id (16) | signing public key (32) |
/// stored at (u64) | signing secret length (u8, 0 or 64) | signing secret | chain iteration (u32) | floor (u32) |
/// chain key (32) | skipped count (u16) | skipped entries: iteration (u32) || message key (32)`.
struct SenderKeyRecord: ~Copyable {
    static let version: UInt8 = 2
    static let fixedLength = 1 + 16 + 8 + 4 + 16 + 32 + 8 + 1

    /// The description; `info.iteration` is the chain's next iteration.
    let info: SenderKeyInfo
    /// When this keyring stored the key (seconds since the Unix epoch).
    let storedAt: UInt64
    /// The 64-byte Ed25519 secret of an own key; empty for others' keys.
    let signingSecret: SecretBytes
    /// The ratchet state.
    let chain: SenderChain

    /// True for this member's own keys.
    var isOwn: Bool { signingSecret.count > 0 }

    /// The same key with another ratchet state.
    func with(_ chain: consuming SenderChain) -> SenderKeyRecord {
        let i = info
        let updated = SenderKeyInfo(roomID: i.roomID, owner: i.owner, epoch: i.epoch, generation: i.generation, keyID: i.keyID,
                                    iteration: chain.iteration, signingKey: i.signingKey)
        return SenderKeyRecord(info: updated, storedAt: storedAt, signingSecret: signingSecret.duplicate(), chain: chain)
    }

    /// The row plaintext.
    func encoded() -> SecretBytes {
        var head = ByteWriter(capacity: Self.fixedLength)
        head.writeU8(Self.version)
        head.write(info.owner.bytes)
        head.writeU64(info.epoch)
        head.writeU32(info.generation)
        head.write(info.keyID)
        head.write(info.signingKey.bytes)
        head.writeU64(storedAt)
        head.writeU8(UInt8(signingSecret.count))
        var mid = ByteWriter(capacity: 8)
        mid.writeU32(chain.iteration)
        mid.writeU32(chain.floor)
        let skipped = chain.skipped.storage.count
        let total = head.bytes.count + signingSecret.count + mid.bytes.count + 32 + 2 + skipped
        return SecretBytes(count: total) { out in
            var offset = 0
            func put(_ src: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + src.count)]).copyMemory(from: src)
                offset += src.count
            }
            head.bytes.withUnsafeBytes(put)
            signingSecret.withUnsafeBytes(put)
            mid.bytes.withUnsafeBytes(put)
            chain.chainKey.bytes.withUnsafeBytes(put)
            [UInt8(truncatingIfNeeded: chain.skipped.count >> 8), UInt8(truncatingIfNeeded: chain.skipped.count)].withUnsafeBytes(put)
            chain.skipped.storage.withUnsafeBytes(put)
        }
    }

    /// Reads a row plaintext of room `roomID`; any inconsistency is an integrity failure.
    static func decode(_ plain: borrowing SecretBytes, roomID: RoomID) throws(KeyringError) -> SenderKeyRecord {
        let failure = KeyringError.integrityFailure(table: "sender_key")
        guard plain.count >= fixedLength else { throw failure }
        let head = plain.withUnsafeBytes { Array($0[0..<fixedLength]) }
        var r = ByteReader(head, what: "sender key row")
        guard (try? r.readU8("version")) == version,
              let owner = try? IdentityID(from: &r, "owner"),
              let epoch = try? r.readU64("epoch"), let generation = try? r.readU32("generation"),
              let keyID = try? r.read(16, "key id"), let signingBytes = try? r.read(32, "signing key"),
              let signingKey = try? SigningPublicKey(bytes: signingBytes),
              let storedAt = try? r.readU64("stored at"), let secretLength = try? Int(r.readU8("secret length")),
              secretLength == 0 || secretLength == SigningKeyPair.secretLength,
              keyID == SenderKeyInfo.keyID(for: signingKey) else { throw failure }
        let chainStart = fixedLength + secretLength
        guard plain.count >= chainStart + 8 + 32 + 2 else { throw failure }
        let counters = plain.withUnsafeBytes { Array($0[chainStart..<(chainStart + 8)]) + Array($0[(chainStart + 40)..<(chainStart + 42)]) }
        let iteration = counters[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let floor = counters[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let skippedCount = Int(counters[8]) << 8 | Int(counters[9])
        let skippedStart = chainStart + 42
        // An edited row must fail here, not trap when the range floor..<iteration is formed.
        guard floor <= iteration, plain.count == skippedStart + skippedCount * SkippedKeys.entryLength else { throw failure }
        let secret = plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[fixedLength..<chainStart])) }
        let chainBytes = plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[(chainStart + 8)..<(chainStart + 40)])) }
        let flat = plain.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[skippedStart...])) }
        guard let chainKey = try? SymmetricKey(chainBytes),
              let skipped = try? SkippedKeys(flat: flat, range: floor..<iteration, limit: SenderChain.maxSkipped),
              let chain = try? SenderChain(chainKey: chainKey, iteration: iteration, floor: floor, skipped: skipped) else { throw failure }
        let info = SenderKeyInfo(roomID: roomID, owner: owner, epoch: epoch, generation: generation, keyID: keyID,
                                 iteration: iteration, signingKey: signingKey)
        return SenderKeyRecord(info: info, storedAt: storedAt, signingSecret: secret, chain: chain)
    }
}
