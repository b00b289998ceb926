/// A signed membership commit: one epoch of a room's log.
///
/// Binary form (version 1): `01 | room id (16) | epoch (u64) | previous head (32) | author id (16) | time (u64) |
/// operation count (u32) | operations | roster hash (32) | signature (64)`; the signature is Ed25519 by the
/// author's identity key over `"roomkey/commit/v1" 00 || every preceding byte`.
public struct Commit: Equatable, Sendable {
    /// The format version.
    public static let version: UInt8 = 1
    /// The most operations one commit may carry.
    public static let maxOperations = 100_000
    /// The largest encoded commit.
    public static let maxLength = 32 * 1024 * 1024
    package static let signatureDomain = Array("roomkey/commit/v1".utf8) + [0]
    package static let headDomain = Array("roomkey/head/v1".utf8) + [0]
    /// The head before the first commit.
    public static let genesisHead = [UInt8](repeating: 0, count: 32)

    /// The room.
    public let roomID: RoomID
    /// The epoch this commit starts.
    public let epoch: UInt64
    /// The head hash after the previous commit (zeros for epoch 0).
    public let previousHead: [UInt8]
    /// Who made and signed it.
    public let author: IdentityID
    /// When it was made (seconds since the epoch, as the author's clock says).
    public let time: UInt64
    /// The membership changes, applied in order.
    public let operations: [Operation]
    /// The roster hash after the operations.
    public let rosterHash: [UInt8]
    /// The author's signature.
    public let signature: [UInt8]
    /// The exact bytes, as signed and hashed.
    public let encoded: [UInt8]

    /// Makes and signs a commit.
    public init(roomID: RoomID, epoch: UInt64, previousHead: [UInt8], signer: borrowing SigningKeyPair, time: UInt64,
                operations: [Operation], rosterHash: [UInt8]) {
        let author = IdentityID(signingKey: signer.publicKey)
        let body = Self.body(roomID, epoch, previousHead, author, time, operations, rosterHash)
        let signature = signer.sign(Self.signatureDomain + body)
        self.init(roomID: roomID, epoch: epoch, previousHead: previousHead, author: author, time: time,
                  operations: operations, rosterHash: rosterHash, signature: signature, encoded: body + signature)
    }

    private init(roomID: RoomID, epoch: UInt64, previousHead: [UInt8], author: IdentityID, time: UInt64,
                 operations: [Operation], rosterHash: [UInt8], signature: [UInt8], encoded: [UInt8]) {
        self.roomID = roomID
        self.epoch = epoch
        self.previousHead = previousHead
        self.author = author
        self.time = time
        self.operations = operations
        self.rosterHash = rosterHash
        self.signature = signature
        self.encoded = encoded
    }

    private static func body(_ room: RoomID, _ epoch: UInt64, _ prev: [UInt8], _ author: IdentityID, _ time: UInt64,
                             _ ops: [Operation], _ rosterHash: [UInt8]) -> [UInt8] {
        // Room for the signature too: `body + signature` then extends this buffer instead of copying a large commit.
        var w = ByteWriter(capacity: 128 + prev.count + rosterHash.count + SigningKeyPair.signatureLength
                                     + ops.reduce(0) { $0 + $1.encodedLength })
        w.writeU8(version)
        w.write(room.bytes)
        w.writeU64(epoch)
        w.write(prev)
        w.write(author.bytes)
        w.writeU64(time)
        w.writeU32(UInt32(ops.count))
        for op in ops { op.write(to: &w) }
        w.write(rosterHash)
        return w.bytes
    }

    /// Parses a commit strictly (the signature is checked by `RoomState.apply`, which knows the author's key).
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> Commit {
        if bytes.count > maxLength { throw .oversized(what: "commit", limit: maxLength, found: bytes.count) }
        var r = ByteReader(bytes, what: "commit")
        try r.expectVersion(version)
        let room = try RoomID(bytes: r.read(RoomID.length, "room id"))
        let epoch = try r.readU64("epoch")
        let prev = try r.read(32, "previous head")
        let author = try IdentityID(from: &r, "author")
        let time = try r.readU64("time")
        let count = try r.readCount(width: 4, "operation", limit: maxOperations)
        var ops: [Operation] = []
        ops.reserveCapacity(count)
        for _ in 0..<count { ops.append(try Operation.read(from: &r)) }
        let rosterHash = try r.read(32, "roster hash")
        let signature = try r.read(SigningKeyPair.signatureLength, "signature")
        try r.finish()
        return Commit(roomID: room, epoch: epoch, previousHead: prev, author: author, time: time, operations: ops,
                      rosterHash: rosterHash, signature: signature, encoded: bytes)
    }

    /// Checks the signature with the author's identity key.
    public func verifySignature(_ key: SigningPublicKey) throws(CryptoError) {
        try key.verify(signature, over: Self.signatureDomain + Array(encoded.dropLast(SigningKeyPair.signatureLength)))
    }

    /// The head hash after this commit: `BLAKE2b-256("roomkey/head/v1" 00 || previous head || commit bytes)`.
    public var head: [UInt8] { BLAKE2b.hash([Self.headDomain, previousHead, encoded]) }
}

/// A room's random 16-byte identifier.
public struct RoomID: Hashable, Sendable, CustomStringConvertible {
    /// The length of a room id.
    public static let length = 16
    /// The raw bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes.
    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count == Self.length else { throw .invalid(what: "room id", reason: "expected 16 bytes, found \(bytes.count)") }
        self.bytes = bytes
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A fresh random room id.
    public static func random(using random: any RandomSource) -> RoomID {
        RoomID(unchecked: random.bytes(length))
    }

    /// 32 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    /// The hex form.
    public var description: String { hex }
}
