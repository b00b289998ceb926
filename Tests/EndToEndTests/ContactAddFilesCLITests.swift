import Foundation
import RoomKeyCore
import Testing

/// `contact add FILE...` takes many files (`contact add cards/*.card`); every card of every file is checked before
/// anything is stored, and an error names the file (issue 12, finding 5).
@Suite struct ContactAddFilesCLITests {
    /// alice's sandbox with card files for `names` in `cards/`, and their paths.
    static func cards(_ names: [String]) throws -> (Sandbox, [String]) {
        let s = try Sandbox()
        try s.person("alice")
        try FileManager.default.createDirectory(atPath: s.path("cards"), withIntermediateDirectories: true)
        let paths = try names.map { name in
            let card = try s.person(name)
            let path = s.path("cards/\(name).card")
            try Data((card + "\n").utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        return (s, paths)
    }

    @Test func manyFilesAreAddedInOneRun() throws {
        let (s, paths) = try Self.cards(["bob", "carol", "dave", "erin", "frank"])
        let r = try s.roomkey("alice", ["contact", "add"] + paths + ["--json"])
        r.expect(exit: 0, stderr: "")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["name"] as? String } == ["bob", "carol", "dave", "erin", "frank"])
        #expect(results.allSatisfy { $0["status"] as? String == "added" })
    }

    @Test func aMalformedFileAddsNothingAndIsNamed() throws {
        let (s, paths) = try Self.cards(["bob", "carol"])
        let bad = s.path("cards/broken.card")
        try Data("roomkey-card-v1:AAAA\n".utf8).write(to: URL(fileURLWithPath: bad))
        let before = s.rawBytes(of: "alice")
        let r = try s.roomkey("alice", ["contact", "add", paths[0], bad, paths[1]])
        #expect(r.code == 65, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: \(bad): line 1: "), "\(r)")
        #expect(r.stdout == "")
        #expect(s.rawBytes(of: "alice") == before)
    }

    @Test func aForgedCardInOneFileExits2AndAddsNothing() throws {
        let (s, paths) = try Self.cards(["bob", "carol"])
        var card = Array(try String(contentsOfFile: paths[1], encoding: .utf8).utf8.dropLast())
        let i = card.count - 5
        card[i] = card[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(card).write(to: URL(fileURLWithPath: paths[1]))
        let before = s.rawBytes(of: "alice")
        try s.roomkey("alice", ["contact", "add"] + paths)
            .expect(exit: 2, stderr: "roomkey: error: \(paths[1]): line 1: signature check failed\n", stdout: "")
        #expect(s.rawBytes(of: "alice") == before)
    }

    /// A card whose handle the new-name rules refuse (a bidi control here) names its file and line, as a card that
    /// cannot be parsed does (a review: it said only "handle of card ID is invalid").
    @Test func aRefusedHandleNamesItsFileAndLine() throws {
        let (s, paths) = try Self.cards(["bob"])
        let card = try IdentityCard(handle: "ev\u{202E}il", signer: try SigningKeyPair.generate(),
                                    sealingKey: try SealingKeyPair.generate().publicKey, created: 1_790_000_000)
        let mixed = s.path("cards/mixed.card")
        try Data("\(try String(contentsOfFile: paths[0], encoding: .utf8))\(card.text)\n".utf8).write(to: URL(fileURLWithPath: mixed))
        let before = s.rawBytes(of: "alice")
        let r = try s.roomkey("alice", ["contact", "add", paths[0], mixed])
        #expect(r.code == 65 && r.stderr.hasPrefix("roomkey: error: \(mixed): line 2: handle of card \(card.id.shortHex)"), "\(r)")
        #expect(s.rawBytes(of: "alice") == before)
    }

    @Test func aMissingOrEmptyFileAddsNothing() throws {
        let (s, paths) = try Self.cards(["bob"])
        let before = s.rawBytes(of: "alice")
        let missing = s.path("cards/nobody.card")
        try s.roomkey("alice", ["contact", "add", paths[0], missing]).expect(exit: 4, stderr: "roomkey: error: cannot read \(missing)\n")
        let empty = s.path("cards/empty.card")
        try Data().write(to: URL(fileURLWithPath: empty))
        try s.roomkey("alice", ["contact", "add", paths[0], empty])
            .expect(exit: 65, stderr: "roomkey: error: \(empty): the input holds no identity card\n")
        #expect(s.rawBytes(of: "alice") == before)
    }

    @Test func yourOwnCardAmongManyIsNamed() throws {
        let (s, paths) = try Self.cards(["bob"])
        let mine = s.path("cards/alice.card")
        #expect(try s.roomkey("alice", ["id", "export", "-o", mine]).code == 0)
        let before = s.rawBytes(of: "alice")
        try s.roomkey("alice", ["contact", "add", paths[0], mine]).expect(exit: 64, stderr: "roomkey: error: \(mine): this is your own identity card\n")
        // One file alone is named too, as every other error of one file is; standard input is not.
        try s.roomkey("alice", ["contact", "add", mine]).expect(exit: 64, stderr: "roomkey: error: \(mine): this is your own identity card\n")
        let card = try String(contentsOfFile: mine, encoding: .utf8)
        try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).expect(exit: 64, stderr: "roomkey: error: this is your own identity card\n")
        #expect(s.rawBytes(of: "alice") == before)
    }

    /// A file that is no card names the prefix cards are made with now (`roomkey-card-v2:`), not the old one.
    @Test func aFileThatIsNoCardNamesTheCurrentPrefix() throws {
        let (s, _) = try Self.cards(["bob"])
        let bad = s.path("cards/bad.card")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: bad))
        try s.roomkey("alice", ["contact", "add", bad])
            .expect(exit: 65, stderr: "roomkey: error: \(bad): line 1: input does not start with \"roomkey-card-v2:\"\n")
    }

    @Test func asNamesOneCardAndStandardInputIsReadOnce() throws {
        let (s, paths) = try Self.cards(["bob", "carol"])
        let many = try s.roomkey("alice", ["contact", "add", "--as", "robert"] + paths)
        #expect(many.code == 64, "\(many)")
        #expect(many.stderr.hasPrefix("roomkey: error: --as names one card, but the input holds 2"), "\(many)")
        let twice = try s.roomkey("alice", ["contact", "add", "-", "-"], stdin: Data())
        twice.expect(exit: 64, stderr: """
            roomkey: error: standard input (-) can be read only once
            roomkey: hint: see 'roomkey contact add --help'

            """)
    }
}
