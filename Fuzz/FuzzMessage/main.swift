// Fuzzes room messages, binary (RoomMessage.parse) and armored (MessageArmor.decode / read): any input gives a
// value or a thrown error; an accepted message's header re-encodes, and armor round-trips any bytes.
import RoomKeyCore

let signer = Person("alice")
let key = try! SymmetricKey(secret(seed("message-key")))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    if MessageArmor.isArmored(bytes) { _ = try? MessageArmor.decode(bytes) }
    if let message = try? MessageArmor.read(bytes) {
        let raw = message.bytes
        require(raw.count <= RoomMessage.maxLength, "over the limit")
        require(RoomMessage.header(roomID: message.roomID, epoch: message.epoch, sender: message.sender, keyID: message.keyID,
                                   iteration: message.iteration, bodyLength: raw.count - RoomMessage.headerLength - 64)
                == Array(raw.prefix(RoomMessage.headerLength)), "header does not re-encode")
        require(message.plaintextLength >= 0, "negative plaintext length")
        _ = try? message.verify(signer.signing.publicKey)
        _ = try? message.open(key)
        require((try? RoomMessage.parse(raw))?.bytes == raw, "binary form does not re-parse")
        let armored = Array(MessageArmor.encode(raw).utf8)
        require((try? MessageArmor.read(armored))?.bytes == raw, "armored form does not re-read")
    }
    let armored = Array(MessageArmor.encode(bytes).utf8)
    require(MessageArmor.isArmored(armored), "armor not recognised")
    require((try? MessageArmor.decode(armored)) == bytes, "armor does not round-trip")
    return 0
}
