/// A distribution bundle as it travels: a clear header, one stanza per recipient, and a sealed payload.
///
/// Layout: `"RKB" version | room id (16) | epoch (u64) | sender id (16) | stanza count (u32) | stanzas | payload`.
/// Version 1 stanzas: `recipient id (16) || crypto_box_seal(bundle key) (80)`.
/// Version 2 stanzas: `recipient id (16) || kind (u8) || body`, kind 1 = `crypto_box_seal(bundle key)` (80),
/// kind 2 = X-Wing HPKE `enc (1120) || AES-256-GCM(bundle key) || tag` (1,168); a version 2 bundle has at least one
/// kind 2 stanza (with none, the sender writes version 1).
/// The payload is an XChaCha20-Poly1305 box; its associated data is `"roomkey/bundle/v1" 00 || header || stanza hash`, where
/// the header is every byte before the stanza count (the version byte included) and the stanza hash is `BLAKE2b-256` of the
/// stanza bytes (count included).
public struct Bundle: Sendable {
    /// The magic and version bytes of a version 1 bundle.
    public static let magic: [UInt8] = [0x52, 0x4B, 0x42, 0x01]
    /// The magic and version bytes of a version 2 bundle (post-quantum stanzas).
    public static let magicV2: [UInt8] = [0x52, 0x4B, 0x42, 0x02]
    /// Header length (magic, room id, epoch, sender id).
    public static let headerLength = 4 + 16 + 8 + 16
    /// One version 1 stanza's length.
    public static let stanzaLength = 16 + 32 + SealingPublicKey.sealOverhead
    /// A version 2 stanza of kind 1 (sealed box).
    public static let stanzaLengthV2Box = 16 + 1 + 32 + SealingPublicKey.sealOverhead
    /// A version 2 stanza of kind 2 (X-Wing HPKE).
    public static let stanzaLengthV2XWing = 16 + 1 + XWingHPKE.encapsulatedLength + 32 + XWingHPKE.tagLength
    /// The most recipients a bundle may name.
    public static let maxStanzas = 100_001

    /// The length of one stanza of a version `version` bundle, of kind `kind`: recipient id, kind byte (version 2) and
    /// sealed key. The parser, the stanza lookup and the follower all walk stanzas by it.
    public static func stanzaLength(version: UInt8, kind: StanzaKind) -> Int {
        IdentityID.length + (version == 1 ? 0 : 1) + sealedKeyLength(kind)
    }

    /// The length of a stanza's sealed key of `kind`.
    static func sealedKeyLength(_ kind: StanzaKind) -> Int {
        kind == .sealedBox ? 32 + SealingPublicKey.sealOverhead : XWingHPKE.encapsulatedLength + 32 + XWingHPKE.tagLength
    }
    /// The largest bundle file roomkey reads.
    public static let maxLength = 256 * 1024 * 1024
    package static let adDomain = Array("roomkey/bundle/v1".utf8) + [0]
    /// The domain of `seenDigest`.
    package static let seenDomain = Array("roomkey/bundle-seen/v1".utf8) + [0]
    /// The domain of a kind 2 stanza's HPKE `info`.
    package static let stanzaInfoDomain = Array("roomkey/stanza/v2".utf8) + [0]

    /// How a stanza seals the bundle key.
    public enum StanzaKind: UInt8, Sendable {
        /// `crypto_box_seal` to the recipient's X25519 key (every version 1 stanza).
        case sealedBox = 1
        /// HPKE base mode with the X-Wing KEM to the recipient's X-Wing key.
        case xwing = 2
    }

    /// The format version (1 or 2).
    public let version: UInt8
    /// The room.
    public let roomID: RoomID
    /// The epoch of the sender key (and of the last commit) this bundle carries.
    public let epoch: UInt64
    /// Who made it.
    public let sender: IdentityID
    /// Recipient ids in stanza order.
    public let recipients: [IdentityID]
    /// Stanza kinds in stanza order.
    public let stanzaKinds: [StanzaKind]
    /// Where each stanza's sealed key starts in `stanzaBytes` (relative to its start).
    package private(set) var sealedOffsets: [Int]
    package private(set) var stanzaBytes: ArraySlice<UInt8>
    package let headerBytes: [UInt8]
    package private(set) var payload: [UInt8]

    /// `BLAKE2b-256` of the stanza count and stanzas, hashed once from the raw stanza region when the bundle is parsed.
    public let stanzaHash: [UInt8]
    /// Set by `retainingStanza(of:)`: the one stanza whose sealed key `stanzaBytes` still holds (alone).
    private var retainedIndex: Int? = nil
    /// Set by `retainingStanza(of:)` for a bundle it kept a stanza of whose payload was larger than
    /// `retainedPayloadLimit`: the payload is gone, and the bundle must be parsed again from its bytes to be opened.
    package private(set) var payloadLetGo = false
    /// The largest payload `retainingStanza(of:)` keeps (a sender key or a small commit's; larger ones are read again).
    package static let retainedPayloadLimit = 64 * 1024

    /// What a keyring records of a bundle it applied: `BLAKE2b-256("roomkey/bundle-seen/v1" 00 || header || stanza hash
    /// || payload)`. It names exactly one file (the header has a fixed length, the stanza hash covers the count and every
    /// stanza, the payload runs to the end of the file) without a second pass over the stanzas, which are most of a large
    /// room's bundle. Made when the bundle is parsed.
    public let seenDigest: [UInt8]

    /// The stanza hash of a bundle's bytes and where its stanza list ends, made by `StanzaHashFollower` while the bytes
    /// were still being read.
    package struct StanzaHash: Sendable {
        /// Where the stanza list ends (the offset of the payload).
        package let end: Int
        /// `BLAKE2b-256` of the bytes from `headerLength` to `end`.
        package let hash: [UInt8]
    }

    /// The room id, epoch and sender of the header `bytes` start with, when those bytes are a whole header of a known version:
    /// what a result reports of a bundle that is malformed further on.
    public static func headerFields(_ bytes: [UInt8]) -> (roomID: RoomID, epoch: UInt64, sender: IdentityID)? {
        guard bytes.count >= headerLength, bytes.starts(with: magic.prefix(3)), bytes[3] == magic[3] || bytes[3] == magicV2[3] else {
            return nil
        }
        var r = ByteReader(Array(bytes[4..<headerLength]), what: "bundle header")
        guard let room = try? RoomID(bytes: r.read(16, "room id")), let epoch = try? r.readU64("epoch"),
              let sender = try? IdentityID(from: &r, "sender id") else { return nil }
        return (room, epoch, sender)
    }

    /// Parses a bundle strictly: a known version, bounded counts, known stanza kinds, unique recipients, a payload at
    /// least one AEAD overhead long.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> Bundle {
        try parse(bytes, stanzaHashOfTheseBytes: nil)
    }

    /// `parse`, taking the stanza hash from `known` when it covers exactly the stanza list this parse finds. `known` must
    /// have been made over these very bytes (`FollowedRead` makes it over the buffer that becomes `bytes`); one that
    /// ends elsewhere is ignored and the stanzas are hashed here.
    package static func parse(_ bytes: [UInt8], stanzaHashOfTheseBytes known: StanzaHash?) throws(WireError) -> Bundle {
        if bytes.count > maxLength { throw .oversized(what: "bundle", limit: maxLength, found: bytes.count) }
        var r = ByteReader(bytes, what: "bundle")
        let magic = try r.read(3, "magic")
        guard magic == Array(Self.magic.prefix(3)) else { throw .invalid(what: "bundle", reason: "not a roomkey bundle") }
        let version = try r.readU8("version")
        guard version == Self.magic[3] || version == Self.magicV2[3] else {
            throw .unknownVersion(what: "bundle", expected: Self.magicV2[3], found: version)
        }
        let room = try RoomID(bytes: r.read(16, "room id"))
        let epoch = try r.readU64("epoch")
        let sender = try IdentityID(from: &r, "sender id")
        let count = try r.readCount(width: 4, "stanza", limit: maxStanzas)
        let smallest = version == 1 ? stanzaLength : stanzaLengthV2Box
        guard r.remaining >= count * smallest + XChaCha20Poly1305.overhead else {
            throw .truncated(what: "bundle stanzas", needed: count * smallest + XChaCha20Poly1305.overhead, available: r.remaining)
        }
        var recipients: [IdentityID] = []
        var kinds: [StanzaKind] = []
        var offsets: [Int] = []
        recipients.reserveCapacity(count)
        kinds.reserveCapacity(count)
        offsets.reserveCapacity(count)
        var seen = Set<IdentityID>(minimumCapacity: count)
        let stanzaStart = headerLength
        for _ in 0..<count {
            let id = try IdentityID(from: &r, "recipient")
            var kind = StanzaKind.sealedBox
            if version == 2 {
                let raw = try r.readU8("stanza kind")
                guard let k = StanzaKind(rawValue: raw) else { throw .invalid(what: "bundle", reason: "unknown stanza kind \(raw)") }
                kind = k
            }
            offsets.append(bytes.count - r.remaining - stanzaStart)
            try r.skip(sealedKeyLength(kind), "sealed key")
            guard seen.insert(id).inserted else { throw .invalid(what: "bundle", reason: "recipient \(id) appears twice") }
            recipients.append(id)
            kinds.append(kind)
        }
        if version == 2, !kinds.contains(.xwing) {
            throw .invalid(what: "bundle", reason: "a version 2 bundle without an X-Wing stanza")
        }
        let stanzaEnd = bytes.count - r.remaining
        guard r.remaining >= XChaCha20Poly1305.overhead else {
            throw .truncated(what: "bundle payload", needed: XChaCha20Poly1305.overhead, available: r.remaining)
        }
        let payload = try r.read(r.remaining, "payload")
        let stanzas = bytes[stanzaStart..<stanzaEnd]
        let header = Array(bytes[0..<headerLength])
        let stanzaHash = if let known, known.end == stanzaEnd { known.hash } else { BLAKE2b.hash(stanzas) }
        return Bundle(version: version, roomID: room, epoch: epoch, sender: sender, recipients: recipients, stanzaKinds: kinds,
                      sealedOffsets: offsets, stanzaBytes: stanzas, headerBytes: header, payload: payload, stanzaHash: stanzaHash,
                      seenDigest: BLAKE2b.hash([seenDomain, header, stanzaHash, payload]))
    }

    /// The stanza addressed to `id`, if any: its kind and sealed bundle key (of a bundle that retains one stanza, only
    /// that one).
    public func stanza(for id: IdentityID) -> (kind: StanzaKind, sealed: [UInt8])? {
        guard let index = recipients.firstIndex(of: id) else { return nil }
        let kind = stanzaKinds[index]
        if let retainedIndex {
            return index == retainedIndex ? (kind, Array(stanzaBytes)) : nil
        }
        let start = stanzaBytes.startIndex + sealedOffsets[index]
        return (kind, Array(stanzaBytes[start..<(start + Self.sealedKeyLength(kind))]))
    }

    /// This bundle as `id` reads it, without the other recipients' sealed keys: the recipients, kinds, stanza hash and
    /// seen digest stay, so it is checked and opened for `id` as the whole bundle is, and holds a few bytes per
    /// recipient instead of up to 1,185 (a receiver of many large rooms' bundles keeps each in memory until its turn).
    /// A bundle with no stanza for `id` keeps none, and no payload: nothing opens it for `id` (a hostile review: a
    /// bundle of another room padded to 100 MB, twelve times, held 1.36 GB through a receive). One that has keeps its
    /// payload up to `retainedPayloadLimit` bytes, and lets a larger one go (`payloadLetGo`): anyone holding `id`'s card
    /// can add a stanza for it, and twelve such bundles held as much (the next review).
    package func retainingStanza(of id: IdentityID) -> Bundle {
        var slim = self
        let found = stanza(for: id)
        if found == nil || payload.count > Self.retainedPayloadLimit { slim.payload = [] }
        slim.payloadLetGo = found != nil && payload.count > Self.retainedPayloadLimit
        slim.stanzaBytes = ArraySlice(found?.sealed ?? [])
        slim.sealedOffsets = []
        slim.retainedIndex = found == nil ? -1 : recipients.firstIndex(of: id)
        return slim
    }

    /// The sealed bundle key addressed to `id`, if the bundle has a stanza for it.
    public func sealedKey(for id: IdentityID) -> [UInt8]? { stanza(for: id)?.sealed }

    /// The payload's associated data.
    package var associatedData: [UInt8] { Self.adDomain + headerBytes + stanzaHash }

    /// The HPKE `info` of a kind 2 stanza: `"roomkey/stanza/v2" 00 || 02 || room id || epoch (u64) || recipient id`.
    package static func stanzaInfo(roomID: RoomID, epoch: UInt64, recipient: IdentityID) -> [UInt8] {
        var w = ByteWriter()
        w.write(stanzaInfoDomain)
        w.writeU8(magicV2[3])
        w.write(roomID.bytes)
        w.writeU64(epoch)
        w.write(recipient.bytes)
        return w.bytes
    }

    /// Opens the payload with this recipient's sealing key pair: `content || signature (64)`. A kind 2 stanza cannot be
    /// opened without an X-Wing key pair (see `openPayload(for:with:xwing:)`).
    public func openPayload(for id: IdentityID, with keyPair: borrowing SealingKeyPair) throws(CryptoError) -> SecretBytes {
        guard let stanza = stanza(for: id), stanza.kind == .sealedBox else { throw .sealedBoxOpenFailed }
        let key = try SymmetricKey(try keyPair.open(stanza.sealed))
        return try XChaCha20Poly1305.openSecret(payload, key: key, ad: associatedData)
    }

    /// Opens the payload with whichever of this recipient's key pairs its stanza needs.
    public func openPayload(for id: IdentityID, with keyPair: borrowing SealingKeyPair,
                            xwing: borrowing XWingKeyPair) throws(CryptoError) -> SecretBytes {
        guard let stanza = stanza(for: id) else { throw .sealedBoxOpenFailed }
        let key: SymmetricKey
        switch stanza.kind {
        case .sealedBox: key = try SymmetricKey(try keyPair.open(stanza.sealed))
        case .xwing:
            key = try SymmetricKey(try XWingHPKE.open(stanza.sealed[...], with: xwing,
                                                      info: Self.stanzaInfo(roomID: roomID, epoch: epoch, recipient: id)))
        }
        return try XChaCha20Poly1305.openSecret(payload, key: key, ad: associatedData)
    }

    /// The header bytes a bundle for `roomID` / `epoch` / `sender` starts with.
    package static func header(roomID: RoomID, epoch: UInt64, sender: IdentityID, version: UInt8 = 1) -> [UInt8] {
        var w = ByteWriter()
        w.write(version == 2 ? magicV2 : magic)
        w.write(roomID.bytes)
        w.writeU64(epoch)
        w.write(sender.bytes)
        return w.bytes
    }
}
