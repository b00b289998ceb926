import Foundation
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

private typealias Bundle = RoomKeyCore.Bundle

/// `StanzaHashFollower`: the stanza hash made while a bundle arrives is the parser's, whatever pieces the bytes arrive
/// in; anything else gives no hash; and `Bundle.parse` takes a known hash only where its own walk ends.
@Suite struct StanzaHashFollowerTests {
    /// Feeds `bytes` to a follower in pieces of `piece` bytes (each call sees every byte so far).
    fileprivate static func follow(_ bytes: [UInt8], piece: Int) -> Bundle.StanzaHash? {
        var follower = StanzaHashFollower()
        bytes.withUnsafeBytes { all in
            var upTo = 0
            while upTo < all.count {
                upTo = min(upTo + piece, all.count)
                follower.advance(UnsafeRawBufferPointer(rebasing: all[..<upTo]))
            }
        }
        return follower.finish()
    }

    /// A version 1 bundle (sealed boxes only) and a version 2 one (X-Wing stanzas among them).
    static func bundles() throws -> [[UInt8]] {
        [try BundleHashingTests.Sealed(pq: 0).bytes, try BundleHashingTests.Sealed(pq: 3).bytes]
    }

    @Test(arguments: [1, 7, 96, 1_000, 1 << 20])
    func inAnyPiecesTheHashIsTheParsers(piece: Int) throws {
        for bytes in try Self.bundles() {
            let parsed = try Bundle.parse(bytes)
            let followed = try #require(Self.follow(bytes, piece: piece), "version \(bytes[3])")
            #expect(followed.hash == parsed.stanzaHash, "version \(bytes[3])")
            #expect(followed.end == Bundle.headerLength + parsed.stanzaBytes.count, "version \(bytes[3])")
        }
    }

    /// The one stanza-length rule the parser and the follower walk by agrees with the fixed lengths the sealer writes.
    @Test func theStanzaLengthRuleMatchesTheFixedLengths() {
        #expect(Bundle.stanzaLength(version: 1, kind: .sealedBox) == Bundle.stanzaLength)
        #expect(Bundle.stanzaLength(version: 2, kind: .sealedBox) == Bundle.stanzaLengthV2Box)
        #expect(Bundle.stanzaLength(version: 2, kind: .xwing) == Bundle.stanzaLengthV2XWing)
    }

    @Test func aListWithoutStanzasIsItsCountAlone() throws {
        var bytes = Bundle.magic + [UInt8](repeating: 7, count: Bundle.headerLength - 4) + [0, 0, 0, 0]
        bytes += [UInt8](repeating: 1, count: XChaCha20Poly1305.overhead)
        let followed = try #require(Self.follow(bytes, piece: 5))
        #expect(followed.end == Bundle.headerLength + 4)
        #expect(followed.hash == BLAKE2b.hash([[0, 0, 0, 0]]))
        #expect(try Bundle.parse(bytes).stanzaHash == followed.hash)
    }

    /// Bytes that stop inside the list, another file, an unknown version or stanza kind, or a count beyond the limit:
    /// no hash (the parser then decides, and hashes for itself if the bundle is good).
    @Test func anythingButAWholeStanzaListGivesNoHash() throws {
        let v2 = try BundleHashingTests.Sealed(pq: 2).bytes
        let countAt = Bundle.headerLength
        var foreign = v2
        foreign[0] = UInt8(ascii: "X")
        var version = v2
        version[3] = 3
        var kind = v2
        kind[countAt + 4 + 16] = 9
        var count = v2
        count.replaceSubrange(countAt..<countAt + 4, with: [0, 0x01, 0x86, 0xA2])  // 100,002 stanzas
        let cases: [(String, [UInt8])] = [
            ("empty", []), ("header only", Array(v2.prefix(countAt + 2))), ("inside a stanza", Array(v2.prefix(countAt + 4 + 200))),
            ("another magic", foreign), ("unknown version", version), ("unknown stanza kind", kind), ("too many stanzas", count),
        ]
        for (name, bytes) in cases {
            #expect(Self.follow(bytes, piece: 64) == nil, "\(name)")
        }
    }

    /// The parse takes a known hash only where its own walk ends; one that ends elsewhere is ignored.
    @Test func theParseTakesAKnownHashOnlyWhereItsListEnds() throws {
        let one = try BundleHashingTests.Sealed(pq: 1).bytes
        let two = try BundleHashingTests.Sealed(pq: 2).bytes
        let truth = try Bundle.parse(one).stanzaHash
        // Another bundle's hash ends elsewhere: ignored.
        let other = try #require(Self.follow(two, piece: 4_096))
        #expect(try Bundle.parse(one, stanzaHashOfTheseBytes: other).stanzaHash == truth)
        // One that ends where the list ends is taken as it is (it was made over these bytes): the parse does not hash again.
        let end = try #require(Self.follow(one, piece: 4_096)).end
        let marked = Bundle.StanzaHash(end: end, hash: [UInt8](repeating: 0xAB, count: 32))
        #expect(try Bundle.parse(one, stanzaHashOfTheseBytes: marked).stanzaHash == marked.hash)
    }
}
