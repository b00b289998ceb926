// Fuzzes the outer bundle (Bundle.parse) and opening it as the fixed receiver (BundleContent(opening:)): any input
// gives a value or a thrown error; an accepted bundle's header, stanzas and payload cover its bytes exactly; and the
// stanza hash made while the bytes arrive (StanzaHashFollower, in pieces whose size the input picks) is the parser's.
import RoomKeyCore

let receiver = Person("bob")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    _ = LeaveRequest.looksLike(bytes)
    var follower = StanzaHashFollower()
    let piece = 1 + Int(bytes.last ?? 0) * 37
    bytes.withUnsafeBytes { all in
        var upTo = 0
        while upTo < all.count {
            upTo = min(upTo + piece, all.count)
            follower.advance(UnsafeRawBufferPointer(rebasing: all[..<upTo]))
        }
    }
    let followed = follower.finish()
    guard let bundle = try? Bundle.parse(bytes) else { return 0 }
    // Every bundle the parser accepts, the follower walks to the same end with the same hash.
    require(followed?.end == Bundle.headerLength + bundle.stanzaBytes.count, "the follower ends the stanza list elsewhere")
    require(followed?.hash == bundle.stanzaHash, "the follower's stanza hash differs")
    require((try? Bundle.parse(bytes, stanzaHashOfTheseBytes: followed))?.seenDigest == bundle.seenDigest, "a followed parse differs")
    // With its version: a version 2 (post-quantum) header once failed here against a version 1 re-encoding.
    require(Bundle.header(roomID: bundle.roomID, epoch: bundle.epoch, sender: bundle.sender, version: bundle.version)
            == Array(bytes.prefix(Bundle.headerLength)), "header does not re-encode")
    require(bundle.headerBytes.count == Bundle.headerLength, "header length")
    // Per version and kind (the version 1 lengths alone once failed here on a version 2 bundle).
    let lengths = bundle.stanzaKinds.map { kind in
        bundle.version == 1 ? Bundle.stanzaLength : (kind == .sealedBox ? Bundle.stanzaLengthV2Box : Bundle.stanzaLengthV2XWing)
    }
    require(bundle.stanzaBytes.count == 4 + lengths.reduce(0, +), "stanza length")
    require(bundle.headerBytes.count + bundle.stanzaBytes.count + bundle.payload.count == bytes.count, "bundle parts do not add up")
    require(Set(bundle.recipients).count == bundle.recipients.count, "duplicate recipient accepted")
    for (id, length) in zip(bundle.recipients, lengths) {
        require(bundle.sealedKey(for: id)?.count == length - (bundle.version == 1 ? 16 : 17), "sealed key length")
    }
    _ = bundle.stanzaHash
    if let content = try? BundleContent(opening: bundle, recipient: receiver.id, keyPair: receiver.sealing) {
        _ = content.commits.count
        _ = try? content.verify(signer: receiver.signing.publicKey)
    }
    return 0
}
