/// The public description of a sender key: which room, member, epoch and generation it belongs to.
public struct SenderKeyInfo: Equatable, Sendable {
    /// The room.
    public let roomID: RoomID
    /// The member who encrypts with it.
    public let owner: IdentityID
    /// The epoch it was made for.
    public let epoch: UInt64
    /// The generation within the epoch (0, then one more per manual rotation).
    public let generation: UInt32
    /// 16 bytes naming the key: `BLAKE2b-128("roomkey/sender-key-id/v1" 00 || signing public key)`.
    public let keyID: [UInt8]
    /// The ratchet position the chain key is at.
    public let iteration: UInt32
    /// The key that signs this sender's messages.
    public let signingKey: SigningPublicKey

    package static let idDomain = Array("roomkey/sender-key-id/v1".utf8) + [0]

    /// Describes a sender key from its fields.
    package init(roomID: RoomID, owner: IdentityID, epoch: UInt64, generation: UInt32, keyID: [UInt8], iteration: UInt32,
                 signingKey: SigningPublicKey) {
        self.roomID = roomID
        self.owner = owner
        self.epoch = epoch
        self.generation = generation
        self.keyID = keyID
        self.iteration = iteration
        self.signingKey = signingKey
    }

    /// The key id of a signing key.
    public static func keyID(for signingKey: SigningPublicKey) -> [UInt8] {
        BLAKE2b.hash([idDomain, signingKey.bytes], length: 16)
    }
}

/// A sender key as distributed in a bundle: its description and its secret chain key.
///
/// Wire form (inside a bundle's sealed content): `epoch (u64) | generation (u32) | key id (16) | iteration (u32) |
/// chain key (32) | signing public key (32)`, 96 bytes.
public struct SenderKey: ~Copyable {
    /// The public description.
    public let info: SenderKeyInfo
    /// The chain key at `info.iteration`.
    public let chainKey: SymmetricKey

    /// Length of the wire form.
    public static let wireLength = 8 + 4 + 16 + 4 + 32 + 32

    /// Wraps a description and a chain key.
    public init(info: SenderKeyInfo, chainKey: consuming SymmetricKey) {
        self.info = info
        self.chainKey = chainKey
    }

    /// Writes the wire form into `buffer` (exactly `wireLength` bytes).
    package func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter()
        w.writeU64(info.epoch)
        w.writeU32(info.generation)
        w.write(info.keyID)
        w.writeU32(info.iteration)
        let head = w.bytes
        buffer.copyBytes(from: head)
        chainKey.bytes.withUnsafeBytes { c in
            UnsafeMutableRawBufferPointer(rebasing: buffer[head.count..<(head.count + 32)]).copyMemory(from: c)
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[(head.count + 32)...]).copyBytes(from: info.signingKey.bytes)
    }

    /// Reads the wire form of `owner`'s key for `roomID` from `bytes`.
    package static func read(_ bytes: UnsafeRawBufferPointer, roomID: RoomID, owner: IdentityID) throws(WireError) -> SenderKey {
        guard bytes.count == wireLength else {
            throw .invalid(what: "sender key", reason: "expected \(wireLength) bytes, found \(bytes.count)")
        }
        var r = ByteReader(Array(bytes[0..<32]) + Array(bytes[64..<Self.wireLength]), what: "sender key")
        let epoch = try r.readU64("epoch")
        let generation = try r.readU32("generation")
        let keyID = try r.read(16, "key id")
        let iteration = try r.readU32("iteration")
        let signing = try r.read(32, "signing key")
        try r.finish()
        guard let signingKey = try? SigningPublicKey(bytes: signing) else { throw .invalid(what: "sender key", reason: "signing key") }
        guard keyID == SenderKeyInfo.keyID(for: signingKey) else { throw .invalid(what: "sender key", reason: "key id does not match") }
        let chain = SecretBytes(copying: UnsafeRawBufferPointer(rebasing: bytes[32..<64]))
        guard let chainKey = try? SymmetricKey(chain) else { throw .invalid(what: "sender key", reason: "chain key") }
        let info = SenderKeyInfo(roomID: roomID, owner: owner, epoch: epoch, generation: generation, keyID: keyID,
                                 iteration: iteration, signingKey: signingKey)
        return SenderKey(info: info, chainKey: chainKey)
    }
}

/// The owner's own sender key: the distributable part plus the private signing key.
public struct OwnSenderKey: ~Copyable {
    /// The shareable key (description and chain key).
    public let shared: SenderKey
    /// The key pair that signs messages.
    public let signing: SigningKeyPair

    /// Makes a fresh sender key at iteration 0.
    public static func generate(roomID: RoomID, owner: IdentityID, epoch: UInt64, generation: UInt32,
                                random: any RandomSource) throws(CryptoError) -> OwnSenderKey {
        make(roomID: roomID, owner: owner, epoch: epoch, generation: generation, signing: try SigningKeyPair.generate(),
             random: random)
    }

    /// Makes a sender key at iteration 0 around a given signing key pair, the chain key drawn from `random`.
    /// `generate` passes a fresh pair; known-answer tests pass one made from a fixed seed.
    package static func make(roomID: RoomID, owner: IdentityID, epoch: UInt64, generation: UInt32,
                             signing: consuming SigningKeyPair, random: any RandomSource) -> OwnSenderKey {
        let info = SenderKeyInfo(roomID: roomID, owner: owner, epoch: epoch, generation: generation,
                                 keyID: SenderKeyInfo.keyID(for: signing.publicKey), iteration: 0, signingKey: signing.publicKey)
        return OwnSenderKey(shared: SenderKey(info: info, chainKey: .random(using: random)), signing: signing)
    }

    /// Wraps parts restored from storage.
    public init(shared: consuming SenderKey, signing: consuming SigningKeyPair) {
        self.shared = shared
        self.signing = signing
    }
}
