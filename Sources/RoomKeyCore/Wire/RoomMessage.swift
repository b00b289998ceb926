/// A room message as it travels: a clear header, the encrypted body, and the sender key's signature.
///
/// Layout: `"RKM" 01 | room id (16) | epoch (u64) | sender id (16) | key id (16) | iteration (u32) | body length (u32) |
/// body | signature (64)`. The header is every byte before the body (68). The body is
/// `XChaCha20-Poly1305(message key, plaintext, ad = header)` as a box (`nonce (24) || ciphertext || tag (16)`), and the
/// signature is Ed25519 by the sender key's signing key over `header || body`.
public struct RoomMessage: Sendable {
    /// The magic and version bytes.
    public static let magic: [UInt8] = [0x52, 0x4B, 0x4D, 0x01]
    /// Header length.
    public static let headerLength = 4 + 16 + 8 + 16 + 16 + 4 + 4
    /// The largest plaintext a message carries (64 MiB).
    public static let maxPlaintext = 64 * 1024 * 1024
    /// The largest message, in bytes.
    public static let maxLength = headerLength + maxPlaintext + XChaCha20Poly1305.overhead + SigningKeyPair.signatureLength

    /// The room.
    public let roomID: RoomID
    /// The epoch of the sender key.
    public let epoch: UInt64
    /// The sender's identity id.
    public let sender: IdentityID
    /// The sender key's id.
    public let keyID: [UInt8]
    /// The ratchet iteration of the message key.
    public let iteration: UInt32
    /// The whole message.
    public let bytes: [UInt8]

    /// The length of the plaintext inside.
    public var plaintextLength: Int { bytes.count - Self.headerLength - XChaCha20Poly1305.overhead - SigningKeyPair.signatureLength }

    /// Parses a message strictly: magic, known version, bounded body length, no trailing byte.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> RoomMessage {
        if bytes.count > maxLength { throw .oversized(what: "message", limit: maxLength, found: bytes.count) }
        var r = ByteReader(bytes, what: "message")
        guard try r.read(3, "magic") == Array(magic.prefix(3)) else { throw .invalid(what: "message", reason: "not a roomkey message") }
        let version = try r.readU8("version")
        guard version == magic[3] else { throw .unknownVersion(what: "message", expected: magic[3], found: version) }
        let room = try RoomID(bytes: r.read(16, "room id"))
        let epoch = try r.readU64("epoch")
        let sender = try IdentityID(from: &r, "sender id")
        let keyID = try r.read(16, "key id")
        let iteration = try r.readU32("iteration")
        let bodyLength = Int(try r.readU32("body length"))
        let maxBody = maxPlaintext + XChaCha20Poly1305.overhead
        if bodyLength > maxBody { throw .oversized(what: "message body", limit: maxBody, found: bodyLength) }
        if bodyLength < XChaCha20Poly1305.overhead { throw .invalid(what: "message body", reason: "shorter than \(XChaCha20Poly1305.overhead) bytes") }
        try r.skip(bodyLength, "body")
        try r.skip(SigningKeyPair.signatureLength, "signature")
        try r.finish()
        return RoomMessage(roomID: room, epoch: epoch, sender: sender, keyID: keyID, iteration: iteration, bytes: bytes)
    }

    /// The header bytes of a message.
    package static func header(roomID: RoomID, epoch: UInt64, sender: IdentityID, keyID: [UInt8], iteration: UInt32,
                       bodyLength: Int) -> [UInt8] {
        var w = ByteWriter(capacity: headerLength)
        w.write(magic)
        w.write(roomID.bytes)
        w.writeU64(epoch)
        sender.write(to: &w)
        w.write(keyID)
        w.writeU32(iteration)
        w.writeU32(UInt32(bodyLength))
        return w.bytes
    }

    /// Encrypts and signs `plaintext` as message `iteration` of the sender key `keyID`.
    public static func seal(roomID: RoomID, epoch: UInt64, sender: IdentityID, keyID: [UInt8], iteration: UInt32,
                            plaintext: [UInt8], messageKey: borrowing SymmetricKey, signer: borrowing SigningKeyPair,
                            random: any RandomSource) throws(MessageError) -> RoomMessage {
        guard plaintext.count <= maxPlaintext else { throw .tooLarge(limit: maxPlaintext, found: plaintext.count) }
        guard keyID.count == 16 else { throw .corruptState }
        let header = header(roomID: roomID, epoch: epoch, sender: sender, keyID: keyID, iteration: iteration,
                            bodyLength: plaintext.count + XChaCha20Poly1305.overhead)
        // header || box || signature, built in one buffer: the signature is written over the bytes before it in place.
        let out = XChaCha20Poly1305.seal(plaintext, key: messageKey, headerAsAD: header, random: random,
                                         trailerLength: SigningKeyPair.signatureLength) { signed, signature in
            signer.sign(signed, into: signature)
        }
        return RoomMessage(roomID: roomID, epoch: epoch, sender: sender, keyID: keyID, iteration: iteration, bytes: out)
    }

    /// Checks the sender key's signature over header and body (read in place, not copied).
    public func verify(_ signingKey: SigningPublicKey) throws(MessageError) {
        let signed = bytes.count - SigningKeyPair.signatureLength
        let ok = bytes.withUnsafeBytes { all in
            (try? signingKey.verify(signature: UnsafeRawBufferPointer(rebasing: all[signed...]),
                                    over: UnsafeRawBufferPointer(rebasing: all[0..<signed]))) != nil
        }
        if !ok { throw .signatureInvalid }
    }

    /// Decrypts the body with its message key (call `verify` first); body and header are read in place, not copied.
    public func open(_ messageKey: borrowing SymmetricKey) throws(MessageError) -> SecretBytes {
        do {
            return try XChaCha20Poly1305.openSecret(in: bytes, box: Self.headerLength..<(bytes.count - SigningKeyPair.signatureLength),
                                                    ad: 0..<Self.headerLength, key: messageKey)
        } catch {
            throw .decryptionFailed
        }
    }
}
