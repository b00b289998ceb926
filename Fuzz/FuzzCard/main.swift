// Fuzzes identity cards, binary (IdentityCard.parse) and text (verified(text:), verifiedCards(in:)): any input gives a
// card or a thrown error; an accepted card re-encodes to the same bytes and its text form reads back.
import RoomKeyCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    if let card = try? IdentityCard.parse(bytes) {
        require(card.encoded == bytes, "card encoding differs from its input")
        require(card.handle.utf8.count >= 1 && card.handle.utf8.count <= Handle.maxBytes, "handle length")
        let prefix = card.isPostQuantum ? IdentityCard.textPrefixV2 : IdentityCard.textPrefix
        require(card.text.hasPrefix(prefix), "card text has the wrong prefix for its version")
        let back = try? TextArmor.decode(card.text, prefix: prefix, what: "card", maxBytes: IdentityCard.maxBinaryLength)
        require(back == bytes, "card text does not decode to its bytes")
        let verified = (try? card.verify()) != nil
        let fromText = try? IdentityCard.verified(text: card.text)
        require((fromText != nil) == verified, "verified(text:) disagrees with verify()")
        if let fromText { require(fromText == card, "text card differs") }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let card = try? IdentityCard.verified(text: text) {
        let prefix = card.isPostQuantum ? IdentityCard.textPrefixV2 : IdentityCard.textPrefix
        require(card.text == prefix + text.trimmingWhitespace().dropFirst(prefix.count), "text card is not canonical")
    }
    if size <= 4096, let cards = try? IdentityCard.verifiedCards(in: text) {
        for card in cards { require((try? card.verify()) != nil, "a listed card does not verify") }
    }
    return 0
}
