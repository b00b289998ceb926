// Fuzzes the sealed content of a bundle: the input is the content plaintext, sealed here by a fixed sender to the
// fixed receiver (so the AEAD passes), then opened and parsed. Any content gives a value or a thrown error; accepted
// content re-encodes to the same bytes and its signature verifies.
import RoomKeyCore

let sender = Person("alice")
let receiver = Person("bob")
let room = try! RoomID(bytes: Array(seed("room").prefix(16)))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let random = try! SeededRandom(seed: seed("random"))
    let sealed = try! BundleSealer.sealForKnownAnswerTests(roomID: room, epoch: 7, signer: sender.signing,
                                                          recipients: [(receiver.id, receiver.card.sealingKey)],
                                                          content: secret(bytes), random: random, stanzaSeeds: [seed("stanza")])
    let bundle = try! Bundle.parse(sealed)
    guard let content = try? BundleContent(opening: bundle, recipient: receiver.id, keyPair: receiver.sealing) else { return 0 }
    require((try? content.verify(signer: sender.signing.publicKey)) != nil, "content signed by the sender does not verify")
    require(content.content.withUnsafeBytes { Array($0) } == bytes, "content differs from what was sealed")
    let again: [UInt8]
    switch content.senderKey {
    case let .some(key):
        require(key.info.roomID == room && key.info.owner == sender.id, "sender key room/owner")
        again = BundleContent.encode(senderKey: key, commits: content.commits).withUnsafeBytes { Array($0) }
    case .none:
        again = BundleContent.encode(commits: content.commits).withUnsafeBytes { Array($0) }
    }
    require(again == bytes, "content does not re-encode to its bytes")
    return 0
}
