/// A distribution bundle as it travels: a clear header, one stanza per recipient, and a sealed payload.
///
/// Layout: `"RKB" 01 | room id (16) | epoch (u64) | sender id (16) | stanza count (u32) |
/// stanzas: recipient id (16) || crypto_box_seal(bundle key) (80) | payload: XChaCha20-Poly1305 box`.
/// The payload's associated data is `"roomkey/bundle/v1" 00 || header || stanza hash`, where the header is
/// every byte before the stanza count and the stanza hash is `BLAKE2b-256` of the stanza bytes (count included).
public struct Bundle: Sendable {
    /// The magic and version bytes.
    public static let magic: [UInt8] = [0x52, 0x4B, 0x42, 0x01]
    /// Header length (magic, room id, epoch, sender id).
    public static let headerLength = 4 + 16 + 8 + 16
    /// One stanza's length.
    public static let stanzaLength = 16 + 32 + SealingPublicKey.sealOverhead
    /// The most recipients a bundle may name.
    public static let maxStanzas = 100_001
    /// The largest bundle file roomkey reads.
    public static let maxLength = 256 * 1024 * 1024
    package static let adDomain = Array("roomkey/bundle/v1".utf8) + [0]

    /// The room.
    public let roomID: RoomID
    /// The epoch of the sender key (and of the last commit) this bundle carries.
    public let epoch: UInt64
    /// Who made it.
    public let sender: IdentityID
    /// Recipient ids in stanza order.
    public let recipients: [IdentityID]
    package let stanzaBytes: ArraySlice<UInt8>
    package let headerBytes: [UInt8]
    package let payload: [UInt8]

    /// `BLAKE2b-256` of the stanza count and stanzas.
    public var stanzaHash: [UInt8] { BLAKE2b.hash([Array(stanzaBytes)]) }

    /// Parses a bundle strictly: bounded counts, unique recipients, a payload at least one AEAD overhead long.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> Bundle {
        if bytes.count > maxLength { throw .oversized(what: "bundle", limit: maxLength, found: bytes.count) }
        var r = ByteReader(bytes, what: "bundle")
        let magic = try r.read(3, "magic")
        guard magic == Array(Self.magic.prefix(3)) else { throw .invalid(what: "bundle", reason: "not a roomkey bundle") }
        let version = try r.readU8("version")
        guard version == Self.magic[3] else { throw .unknownVersion(what: "bundle", expected: Self.magic[3], found: version) }
        let room = try RoomID(bytes: r.read(16, "room id"))
        let epoch = try r.readU64("epoch")
        let sender = try IdentityID(bytes: r.read(16, "sender id"))
        let count = try r.readCount(width: 4, "stanza", limit: maxStanzas)
        guard r.remaining >= count * stanzaLength + XChaCha20Poly1305.overhead else {
            throw .truncated(what: "bundle stanzas", needed: count * stanzaLength + XChaCha20Poly1305.overhead, available: r.remaining)
        }
        var recipients: [IdentityID] = []
        recipients.reserveCapacity(count)
        var seen = Set<IdentityID>()
        for _ in 0..<count {
            let id = try IdentityID(bytes: r.read(16, "recipient"))
            _ = try r.read(stanzaLength - 16, "sealed key")
            guard seen.insert(id).inserted else { throw .invalid(what: "bundle", reason: "recipient \(id) appears twice") }
            recipients.append(id)
        }
        let payload = try r.read(r.remaining, "payload")
        return Bundle(roomID: room, epoch: epoch, sender: sender, recipients: recipients,
                      stanzaBytes: bytes[headerLength..<(headerLength + 4 + count * stanzaLength)],
                      headerBytes: Array(bytes[0..<headerLength]), payload: payload)
    }

    /// The sealed bundle key addressed to `id`, if the bundle has a stanza for it.
    public func sealedKey(for id: IdentityID) -> [UInt8]? {
        guard let index = recipients.firstIndex(of: id) else { return nil }
        let start = stanzaBytes.startIndex + 4 + index * Self.stanzaLength + 16
        return Array(stanzaBytes[start..<(start + Self.stanzaLength - 16)])
    }

    /// The payload's associated data.
    package var associatedData: [UInt8] { Self.adDomain + headerBytes + stanzaHash }

    /// Opens the payload with this recipient's sealing key pair: `content || signature (64)`.
    public func openPayload(for id: IdentityID, with keyPair: borrowing SealingKeyPair) throws(CryptoError) -> SecretBytes {
        guard let sealed = sealedKey(for: id) else { throw .sealedBoxOpenFailed }
        let key = try SymmetricKey(try keyPair.open(sealed))
        return try XChaCha20Poly1305.openSecret(payload, key: key, ad: associatedData)
    }

    /// The header bytes a bundle for `roomID` / `epoch` / `sender` starts with.
    package static func header(roomID: RoomID, epoch: UInt64, sender: IdentityID) -> [UInt8] {
        var w = ByteWriter()
        w.write(magic)
        w.write(roomID.bytes)
        w.writeU64(epoch)
        w.write(sender.bytes)
        return w.bytes
    }
}
