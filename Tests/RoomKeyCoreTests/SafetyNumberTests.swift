import Foundation
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// Reads fixtures/signal-fingerprint.txt, which is a verbatim copy of the published vectors and not `key = value`.
struct SignalVectors {
    let lines: [String]

    init() throws {
        let url = fixtureURL("signal-fingerprint.txt")
        guard let data = try? Data(contentsOf: url) else { throw FixtureError.unreadable(url.path) }
        lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The first non-empty line after the first line that starts with `label`.
    func after(_ label: String) throws -> String {
        guard let i = lines.firstIndex(where: { $0.hasPrefix(label) }),
              let value = lines[(i + 1)...].first(where: { !$0.isEmpty }) else {
            throw FixtureError.missingKey(file: "signal-fingerprint.txt", key: label)
        }
        return value
    }

    /// The hex on the line after `label`, decoded.
    func hex(after label: String) throws -> [UInt8] {
        guard let bytes = hexDecode(try after(label)) else { throw FixtureError.notHex(file: "signal-fingerprint.txt", key: label) }
        return bytes
    }

    /// The text between the first two double quotes of the line that starts with `label`.
    func quoted(_ label: String) throws -> String {
        guard let line = lines.first(where: { $0.hasPrefix(label) }) else {
            throw FixtureError.missingKey(file: "signal-fingerprint.txt", key: label)
        }
        let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { throw FixtureError.missingKey(file: "signal-fingerprint.txt", key: label) }
        return String(parts[1])
    }

    /// Evaluates an expression like `"0802" + "12"*32` on the line after `label`.
    func concatenation(after label: String) throws -> [UInt8] {
        var out: [UInt8] = []
        for term in try after(label).split(separator: "+") {
            let pieces = term.trimmingCharacters(in: .whitespaces).split(separator: "*")
            let literal = pieces[0].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            let times = pieces.count > 1 ? Int(pieces[1].trimmingCharacters(in: .whitespaces)) : 1
            guard let bytes = hexDecode(literal), let times else { throw FixtureError.notHex(file: "signal-fingerprint.txt", key: label) }
            for _ in 0..<times { out += bytes }
        }
        return out
    }

    var aliceKey: [UInt8] { get throws { try hex(after: "ALICE_IDENTITY") } }
    var bobKey: [UInt8] { get throws { try hex(after: "BOB_IDENTITY:") } }
    var aliceID: [UInt8] { get throws { Array(try quoted("ALICE_STABLE_ID").utf8) } }
    var bobID: [UInt8] { get throws { Array(try quoted("BOB_STABLE_ID").utf8) } }

    /// Alice's (`alice`) or Bob's view of the number, as libsignal's `Fingerprint::new` makes it.
    func number(version: UInt32, alice: Bool) throws -> SafetyNumber {
        let a = (try aliceKey, try aliceID), b = (try bobKey, try bobID)
        let (local, remote) = alice ? (a, b) : (b, a)
        return try SafetyNumber(version: version, iterations: 5200, localKey: local.0, localStableID: local.1,
                                remoteKey: remote.0, remoteStableID: remote.1)
    }
}

@Suite("Safety numbers: Signal's published vectors (libsignal fingerprint.rs)")
struct SafetyNumberSignalTests {
    @Test("the fixture names its inputs as published", arguments: [true, false])
    func inputs(alice: Bool) throws {
        let v = try SignalVectors()
        #expect(try v.quoted("ALICE_STABLE_ID") == "+14152222222")
        #expect(try v.quoted("BOB_STABLE_ID") == "+14153333333")
        let key = alice ? try v.aliceKey : try v.bobKey
        #expect(key.count == 33 && key[0] == 0x05)
    }

    @Test("displayable: 60 digits, identical for Alice and Bob and for every version",
          arguments: [UInt32(1), 2], [true, false])
    func displayable(version: UInt32, alice: Bool) throws {
        let v = try SignalVectors()
        let expected = try v.after("EXPECTED DISPLAYABLE")
        #expect(expected == "300354477692869396892869876765458257569162576843440918079131")
        #expect(try v.number(version: version, alice: alice).digits == expected)
    }

    @Test("scannable: CombinedFingerprints bytes for Alice and Bob", arguments: [UInt32(1), 2], [true, false])
    func scannable(version: UInt32, alice: Bool) throws {
        let v = try SignalVectors()
        let expected = try v.hex(after: "\(alice ? "ALICE" : "BOB")_SCANNABLE_FINGERPRINT_V\(version) =")
        let encoded = try v.number(version: version, alice: alice).scannable.encoded
        #expect(encoded.count == 74)
        #expect(hexString(encoded) == hexString(expected))
    }

    @Test("the iterated hashes match the intermediate values", arguments: [true, false])
    func intermediates(alice: Bool) throws {
        let v = try SignalVectors()
        let expected = try v.hex(after: alice ? "Alice 64-byte" : "Bob 64-byte")
        let hash = try SafetyNumber.iteratedHash(key: alice ? v.aliceKey : v.bobKey, stableID: alice ? v.aliceID : v.bobID,
                                                 iterations: 5200)
        #expect(hexString(hash) == hexString(expected))
    }

    @Test("encoding only: ScannableFingerprint::new(2, [0x12; 32], [0xBA; 32])")
    func encodingOnly() throws {
        let v = try SignalVectors()
        let expected = try v.concatenation(after: "ENCODING-ONLY VECTOR")
        #expect(expected.count == 74)
        let s = try ScannableFingerprint(version: 2, local: [UInt8](repeating: 0x12, count: 32),
                                         remote: [UInt8](repeating: 0xBA, count: 32))
        #expect(s.encoded == expected)
    }

    @Test("compare: each side accepts the other's scan, not its own", arguments: [UInt32(1), 2])
    func compare(version: UInt32) throws {
        let v = try SignalVectors()
        let alice = try v.number(version: version, alice: true), bob = try v.number(version: version, alice: false)
        #expect(try alice.scannable.compare(bob.scannable.encoded))
        #expect(try bob.scannable.compare(alice.scannable.encoded))
        #expect(try !alice.scannable.compare(alice.scannable.encoded))
        let other = try SignalVectors().number(version: 3 - version, alice: false)
        #expect(throws: SafetyNumberError.versionMismatch(theirs: 3 - version, ours: version)) {
            try alice.scannable.compare(other.scannable.encoded)
        }
    }
}

@Suite("Safety numbers: roomkey identities (fixtures/roomkey-safety-number.txt)")
struct SafetyNumberRoomKeyTests {
    static let file = "roomkey-safety-number.txt"

    static func card(_ f: KeyValueFixture, _ who: String) throws -> IdentityCard {
        let signing = try SigningKeyPair.fromSeed(makeSecret(try f.hex("\(who).seed")))
        return try IdentityCard(handle: try f.string("\(who).handle"), signer: signing,
                                sealingKey: SealingKeyPair.generate().publicKey, created: 1_790_000_000)
    }

    @Test("keys, stable ids and hashes", arguments: ["alice", "bob"])
    func parts(who: String) throws {
        let f = try KeyValueFixture(Self.file)
        let card = try Self.card(f, who)
        #expect(card.signingKey.bytes == (try f.hex("\(who).ed25519_pk")))
        #expect(Array(card.handle.utf8) == (try f.hex("\(who).stable_id")))
        let key = try SafetyNumber.fingerprintKey(card.signingKey)
        #expect(hexString(key) == hexString(try f.hex("\(who).fingerprint_key")))
        let hash = try SafetyNumber.iteratedHash(key: key, stableID: Array(card.handle.utf8), iterations: SafetyNumber.iterations)
        #expect(hexString(hash) == hexString(try f.hex("\(who).hash")))
        #expect(SafetyNumber.displayHalf(hash) == (try f.string("\(who).half")))
    }

    @Test("both sides compute the same 60 digits and crossed scannable forms", arguments: [true, false])
    func number(aliceSide: Bool) throws {
        let f = try KeyValueFixture(Self.file)
        let alice = try Self.card(f, "alice"), bob = try Self.card(f, "bob")
        let n = aliceSide ? try SafetyNumber(local: alice, remote: bob) : try SafetyNumber(local: bob, remote: alice)
        #expect(n.digits == (try f.string("safety_number")))
        #expect(hexString(n.scannable.encoded) == hexString(try f.hex(aliceSide ? "alice.scannable" : "bob.scannable")))
        #expect(n.scannable.version == 2)
        #expect(try n.scannable.compare(try f.hex(aliceSide ? "bob.scannable" : "alice.scannable")))
    }
}

@Suite("Safety numbers: display, typed confirmation and bad input")
struct SafetyNumberFormTests {
    static func sample() throws -> SafetyNumber { try SignalVectors().number(version: 2, alice: true) }

    @Test func twelveGroupsOfFiveInThreeLines() throws {
        let n = try Self.sample()
        #expect(n.groups.count == 12 && n.groups.allSatisfy { $0.count == 5 })
        #expect(n.groups.joined() == n.digits)
        #expect(n.lines == ["30035 44776 92869 39689", "28698 76765 45825 75691", "62576 84344 09180 79131"])
    }

    @Test func typedDigitsMatchWhateverTheSpacing() throws {
        let n = try Self.sample()
        #expect(n.matches(n.digits))
        #expect(n.matches(n.lines.joined(separator: "\n")))
        #expect(n.matches("  " + n.groups.joined(separator: "  ") + "\t"))
        var wrong = Array(n.digits)
        wrong[59] = wrong[59] == "1" ? "2" : "1"
        #expect(!n.matches(String(wrong)))
        #expect(!n.matches(String(n.digits.dropLast())))
        #expect(!n.matches(n.digits + "0"))
        #expect(!n.matches(""))
    }

    @Test func badKeysAndIterationCountsAreRefused() throws {
        let v = try SignalVectors()
        let key = try v.aliceKey, id = try v.aliceID
        #expect(throws: SafetyNumberError.invalidKey(reason: "expected 33 bytes, found 32")) {
            try SafetyNumber.iteratedHash(key: Array(key.dropFirst()), stableID: id, iterations: 5200)
        }
        #expect(throws: SafetyNumberError.invalidKey(reason: "the key type byte is not 05")) {
            try SafetyNumber.iteratedHash(key: [0x06] + key.dropFirst(), stableID: id, iterations: 5200)
        }
        for n in [0, 1, 1_000_001] {
            #expect(throws: SafetyNumberError.invalidIterations(n)) { try SafetyNumber.iteratedHash(key: key, stableID: id, iterations: n) }
        }
        #expect(throws: SafetyNumberError.invalidContentLength(found: 31)) {
            try ScannableFingerprint(version: 2, local: [UInt8](repeating: 0, count: 31), remote: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test("decoding is protobuf's: any field order, unknown fields skipped, absent version is 0")
    func lenientDecoding() throws {
        let mine = try Self.sample().scannable
        let theirs = try SignalVectors().number(version: 2, alice: false).scannable
        let e = theirs.encoded
        // remote, unknown field 9 (varint), local, then version.
        let reordered = Array(e[38...]) + [0x48, 0x96, 0x01] + Array(e[2..<38]) + Array(e[0..<2])
        #expect(try mine.compare(reordered))
        // A repeated embedded message merges: an empty second local_fingerprint keeps the first one's content.
        #expect(try mine.compare(e + [0x12, 0x00]))
        #expect(try !mine.compare(e + [0x12, 0x03, 0x0a, 0x01, 0x00]))
        #expect(throws: SafetyNumberError.versionMismatch(theirs: 0, ours: 2)) { try mine.compare(Array(e[2...])) }
        #expect(try !mine.compare([0x08, 0x02]))
        // A version varint wider than 32 bits is cut to 32 (2 + 2^32 reads as 2), as protobuf's C++ cast does.
        #expect(try mine.compare(Array(e[2...]) + [0x08, 0x82, 0x80, 0x80, 0x80, 0x10]))
        // Unknown groups (field 9, holding a varint, a nested group 10 and bytes) are skipped like any unknown field.
        #expect(try mine.compare(e + [0x4b, 0x48, 0x01, 0x53, 0x54, 0x4a, 0x01, 0x00, 0x4c]))
    }

    @Test("truncated, oversized and mistyped encodings are malformed",
          arguments: [[0x08], [0x08, 0x02, 0x12, 0x22, 0x0a], [0x0a, 0x01, 0x02], [0x08, 0x02, 0x1b], [0x00, 0x01],
                      [0x12, 0x02, 0x08, 0x01], [0x4c], [0x4b, 0x48, 0x01], [0x4b, 0x54], [0x4b, 0x53, 0x4c, 0x54],
                      [UInt8](repeating: 0x4b, count: 65) + [UInt8](repeating: 0x4c, count: 65)] as [[UInt8]])
    func malformed(bytes: [UInt8]) throws {
        let mine = try Self.sample().scannable
        #expect { try mine.compare(bytes) } throws: { error in
            guard let e = error as? SafetyNumberError, case .malformedScannable = e else { return false }
            return e.category == .malformed
        }
    }

    @Test func oversizedEncodingIsRefusedBeforeParsing() throws {
        let mine = try Self.sample().scannable
        let big = mine.encoded + [0x4a, 0xff, 0x07] + [UInt8](repeating: 0, count: 1023)
        #expect(throws: SafetyNumberError.malformedScannable(reason: "\(big.count) bytes, more than 1024")) { try mine.compare(big) }
    }
}
