/// A member's signed request to be removed from a room, for an admin to turn into a commit.
///
/// Layout (version 1, 116 bytes): `"RKL" 01 | room id (16) | epoch (u64) | member id (16) | time (u64) | signature (64)`;
/// the signature is Ed25519 by the member's identity key over `"roomkey/leave-request/v1" 00 || every preceding byte`.
public struct LeaveRequest: Sendable, Equatable {
    /// The magic and version bytes.
    public static let magic: [UInt8] = [0x52, 0x4B, 0x4C, 0x01]
    /// The exact length of a request.
    public static let length = 4 + 16 + 8 + 16 + 8 + 64
    static let signatureDomain = Array("roomkey/leave-request/v1".utf8) + [0]

    /// The room.
    public let roomID: RoomID
    /// The member's epoch of the room when it asked.
    public let epoch: UInt64
    /// The member who leaves.
    public let member: IdentityID
    /// When it asked (the member's clock; informative).
    public let time: UInt64
    /// The exact bytes.
    public let encoded: [UInt8]

    /// True when `bytes` start like a leave request (any version), so a reader can tell it from a bundle.
    public static func looksLike(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic.prefix(3)) }

    /// The room, epoch and member of the first 44 bytes of a request (any version), or nil when it is shorter: what a
    /// path is checked against before the request itself is parsed (`RemotePlacement`).
    public static func headerFields(_ bytes: [UInt8]) -> (roomID: RoomID, epoch: UInt64, member: IdentityID)? {
        let end = magic.count + RoomID.length + 8 + IdentityID.length
        guard bytes.count >= end else { return nil }
        var r = ByteReader(Array(bytes[magic.count..<end]), what: "leave request")
        guard let room = try? RoomID(bytes: r.read(RoomID.length, "room id")), let epoch = try? r.readU64("epoch"),
              let member = try? IdentityID(from: &r, "member id") else { return nil }
        return (room, epoch, member)
    }

    /// Makes and signs a request.
    public init(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair, time: UInt64) {
        let member = IdentityID(signingKey: signer.publicKey)
        var w = ByteWriter(capacity: Self.length)
        w.write(Self.magic)
        w.write(roomID.bytes)
        w.writeU64(epoch)
        w.write(member.bytes)
        w.writeU64(time)
        let body = w.bytes
        self.init(roomID: roomID, epoch: epoch, member: member, time: time, encoded: body + signer.sign(Self.signatureDomain + body))
    }

    private init(roomID: RoomID, epoch: UInt64, member: IdentityID, time: UInt64, encoded: [UInt8]) {
        self.roomID = roomID
        self.epoch = epoch
        self.member = member
        self.time = time
        self.encoded = encoded
    }

    /// Parses a request strictly: exact length, magic and version.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> LeaveRequest {
        if bytes.count > length { throw .oversized(what: "leave request", limit: length, found: bytes.count) }
        var r = ByteReader(bytes, what: "leave request")
        guard try r.read(3, "magic") == Array(magic.prefix(3)) else { throw .invalid(what: "leave request", reason: "not a leave request") }
        let version = try r.readU8("version")
        guard version == magic[3] else { throw .unknownVersion(what: "leave request", expected: magic[3], found: version) }
        let room = try RoomID(bytes: r.read(RoomID.length, "room id"))
        let epoch = try r.readU64("epoch")
        let member = try IdentityID(from: &r, "member id")
        let time = try r.readU64("time")
        _ = try r.read(SigningKeyPair.signatureLength, "signature")
        try r.finish()
        return LeaveRequest(roomID: room, epoch: epoch, member: member, time: time, encoded: bytes)
    }

    /// Checks the member's signature with its identity key.
    public func verify(_ key: SigningPublicKey) throws(CryptoError) {
        guard IdentityID(signingKey: key) == member else { throw .signatureInvalid }
        let body = Array(encoded.dropLast(SigningKeyPair.signatureLength))
        try key.verify(Array(encoded.suffix(SigningKeyPair.signatureLength)), over: Self.signatureDomain + body)
    }
}
