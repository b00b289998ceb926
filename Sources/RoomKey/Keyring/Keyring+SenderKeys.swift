import Foundation
import GRDB

/// Storage of sender keys: members' keys received in bundles and this member's own keys.
///
/// Row plaintext: `01 | owner (16) | epoch (u64) | generation (u32) | key id (16) | iteration (u32) | chain key (32) |
/// signing public key (32) | has signing secret (u8) | signing secret key (64, own keys only) | stored at (u64)`.
extension Keyring {
    static let senderKeyRowVersion: UInt8 = 1

    func senderKeyTag(_ room: RoomID, owner: IdentityID, keyID: [UInt8]) -> [UInt8] {
        tag("sender-key", room.bytes, owner.bytes, keyID)
    }

    /// Stores a sender key and, for this member's own key, its 64-byte signing secret (empty for others' keys).
    func storeSenderKey(_ db: Database, _ key: borrowing SenderKey, signingSecret secret: borrowing SecretBytes) throws {
        let info = key.info
        var head = ByteWriter()
        head.writeU8(Self.senderKeyRowVersion)
        head.write(info.owner.bytes)
        head.writeU64(info.epoch)
        head.writeU32(info.generation)
        head.write(info.keyID)
        head.writeU32(info.iteration)
        var tail = ByteWriter()
        tail.write(info.signingKey.bytes)
        tail.writeU8(secret.count > 0 ? 1 : 0)
        var stamp = ByteWriter()
        stamp.writeU64(now())
        let plain = SecretBytes(count: head.bytes.count + 32 + tail.bytes.count + secret.count + 8) { out in
            var offset = 0
            func put(_ src: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + src.count)]).copyMemory(from: src)
                offset += src.count
            }
            head.bytes.withUnsafeBytes(put)
            key.chainKey.bytes.withUnsafeBytes(put)
            tail.bytes.withUnsafeBytes(put)
            secret.withUnsafeBytes(put)
            stamp.bytes.withUnsafeBytes(put)
        }
        let ktag = senderKeyTag(info.roomID, owner: info.owner, keyID: info.keyID)
        let sealed = plain.withUnsafeBytes { rows.seal($0, table: "sender_key", primaryKey: ktag) }
        try db.execute(sql: "INSERT OR REPLACE INTO sender_key (key_tag, room_tag, sealed) VALUES (?, ?, ?)",
                       arguments: [Data(ktag), Data(roomTag(info.roomID)), Data(sealed)])
    }

    /// The descriptions of every stored sender key of a room (for `room show` and tests).
    func senderKeyInfos(_ db: Database, _ room: RoomID) throws -> [SenderKeyInfo] {
        let sealedRows = try Row.fetchAll(db, sql: "SELECT key_tag, sealed FROM sender_key WHERE room_tag = ?",
                                          arguments: [Data(roomTag(room))])
        return try sealedRows.map { row in
            let plain = try rows.openSecret(Array(row["sealed"] as Data), table: "sender_key", primaryKey: Array(row["key_tag"] as Data))
            return try plain.withUnsafeBytes { p throws -> SenderKeyInfo in
                var r = ByteReader(Array(p[0..<(1 + 16 + 8 + 4 + 16 + 4)]) + Array(p[(1 + 16 + 8 + 4 + 16 + 4 + 32)..<(1 + 16 + 8 + 4 + 16 + 4 + 64)]),
                                   what: "sender key row")
                guard try r.readU8("version") == Self.senderKeyRowVersion else { throw KeyringError.integrityFailure(table: "sender_key") }
                let owner = try IdentityID(bytes: r.read(16, "owner"))
                let epoch = try r.readU64("epoch")
                let generation = try r.readU32("generation")
                let keyID = try r.read(16, "key id")
                let iteration = try r.readU32("iteration")
                let signing = try SigningPublicKey(bytes: r.read(32, "signing key"))
                return SenderKeyInfo(roomID: room, owner: owner, epoch: epoch, generation: generation, keyID: keyID,
                                     iteration: iteration, signingKey: signing)
            }
        }
    }

    /// Sender keys of a room, newest epoch and generation first.
    public func senderKeys(of nameOrID: String) throws -> [SenderKeyInfo] {
        try read { db in
            let room = try findRoom(db, nameOrID)
            return try senderKeyInfos(db, room.id).sorted { ($0.epoch, $0.generation) > ($1.epoch, $1.generation) }
        }
    }
}
