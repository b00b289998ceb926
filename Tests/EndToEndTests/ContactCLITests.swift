import Foundation
import Testing

/// Transcripts of identity export and contact management between keyrings.
@Suite struct ContactCLITests {
    @Test func exchangeCardsBetweenTwoKeyrings() throws {
        let s = try Sandbox()
        try s.person("alice")
        let bobCard = try s.person("bob")
        let export = try s.roomkey("bob", ["id", "export", "-o", s.path("bob.card")])
        #expect(export.code == 0)
        #expect(try String(contentsOfFile: s.path("bob.card"), encoding: .utf8) == bobCard + "\n")

        let add = try s.roomkey("alice", ["contact", "add", s.path("bob.card")])
        #expect(add.code == 0, "\(add)")
        let bobID = try s.roomkey("bob", ["id", "--json"]).json()["id"] as! String
        #expect(add.stdout == "added bob \(bobID)\n")

        let list = try s.roomkey("alice", ["contact", "list"])
        #expect(list.stdout.contains("bob   \(bobID)  unverified   bob"))
        let show = try s.roomkey("alice", ["contact", "show", "bob", "--json"]).json()
        #expect(show["name"] as? String == "bob")
        #expect(show["id"] as? String == bobID)
        #expect(show["handle"] as? String == "bob")
        #expect(show["verified"] as? Bool == false)
        #expect(show["key_changed"] as? Bool == false)

        let remove = try s.roomkey("alice", ["contact", "remove", "bob"])
        #expect(remove.code == 0)
        #expect(try s.roomkey("alice", ["contact", "list", "--json"]).json()["contacts"] as? [Any] != nil)
        #expect(try s.roomkey("alice", ["contact", "show", "bob"]).code == 4)
    }

    @Test func manyCardsFromStandardInput() throws {
        let s = try Sandbox()
        try s.person("alice")
        let cards = try ["bob", "carol", "dave"].map { try s.person($0) }
        let r = try s.roomkey("alice", ["contact", "add", "-", "--json"], stdin: Data(("# team\n" + cards.joined(separator: "\n") + "\n").utf8))
        #expect(r.code == 0, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["name"] as? String } == ["bob", "carol", "dave"])
        #expect(results.allSatisfy { $0["status"] as? String == "added" })
        let named = try s.roomkey("alice", ["contact", "add", "-", "--as", "robert"], stdin: Data(cards[0].utf8))
        #expect(named.stderr.contains("already your contact \"bob\""))
    }

    /// The card of a new person `who` with one base64url character inside its signature (the end of the card) changed.
    static func forgedCard(_ s: Sandbox, _ who: String) throws -> Data {
        var card = Array(try s.person(who).utf8)
        let i = card.count - 5
        card[i] = card[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        return Data(card)
    }

    @Test func forgedCardExits2AndStoresNothing() throws {
        let s = try Sandbox()
        try s.person("alice")
        let card = try Self.forgedCard(s, "mallory")
        let before = s.rawBytes(of: "alice")
        let r = try s.roomkey("alice", ["contact", "add", "-"], stdin: card)
        #expect(r.code == 2, "\(r)")
        #expect(r.stderr == "roomkey: error: line 1: signature check failed\n")
        #expect(s.rawBytes(of: "alice") == before)
    }

    @Test(arguments: ["roomkey-card-v1:AAAA", "roomkey-card-v9:AQ", "not a card at all", "roomkey-card-v1:!!"])
    func malformedCardExits65AndStoresNothing(input: String) throws {
        let s = try Sandbox()
        try s.person("alice")
        let good = try s.person("bob")
        let before = s.rawBytes(of: "alice")
        let r = try s.roomkey("alice", ["contact", "add", "-"], stdin: Data((good + "\n" + input + "\n").utf8))
        #expect(r.code == 65, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: line 2: "))
        #expect(s.rawBytes(of: "alice") == before)
        #expect(try s.roomkey("alice", ["contact", "list", "--json"]).json()["contacts"] as? [Any] == nil ||
                (try s.roomkey("alice", ["contact", "list", "--json"]).json()["contacts"] as? [Any])?.isEmpty == true)
    }

    @Test func changedKeyIsFlaggedNotSilentlyAccepted() throws {
        let s = try Sandbox()
        try s.person("alice")
        let first = try s.person("bob")
        _ = try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(first.utf8))
        // Bob re-creates his identity with the same handle.
        try FileManager.default.removeItem(atPath: s.path("bob"))
        let second = try s.person("bob")
        let r = try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(second.utf8))
        #expect(r.code == 0)
        #expect(r.stderr.hasPrefix("roomkey: warning: the identity key of \"bob\" changed"))
        #expect(r.stderr.contains("roomkey: hint: compare safety numbers with 'roomkey verify bob'"))
        let show = try s.roomkey("alice", ["contact", "show", "bob", "--json"]).json()
        #expect(show["key_changed"] as? Bool == true)
        #expect(show["verified"] as? Bool == false)
        #expect((show["previous_ids"] as? [String])?.count == 1)
        #expect(try s.roomkey("alice", ["contact", "list"]).stdout.contains("KEY-CHANGED"))
    }

    @Test func unknownContactExits4() throws {
        let s = try Sandbox()
        try s.person("alice")
        let r = try s.roomkey("alice", ["contact", "remove", "zed"])
        #expect(r.code == 4)
        #expect(r.stderr == "roomkey: error: no contact named \"zed\"\nroomkey: hint: list contacts with 'roomkey contact list'\n")
        #expect(try s.roomkey("alice", ["contact", "add", s.path("missing.card")]).code == 4)
    }

    @Test func databaseFilesHoldNoHandlesOrNames() throws {
        let s = try Sandbox()
        _ = try s.roomkey("alice", ["init", "--name", "alice-handle-q7"], passphrase: true)
        let card = try s.person("bob-handle-q7")
        _ = try s.roomkey("alice", ["contact", "add", "-", "--as", "bobs-contact-name-q7"], passphrase: true, stdin: Data(card.utf8))
        let raw = s.rawBytes(of: "alice")
        #expect(!raw.isEmpty)
        for needle in ["alice-handle-q7", "bob-handle-q7", "bobs-contact-name-q7"] {
            #expect(raw.range(of: Data(needle.utf8)) == nil, "\(needle) is stored in clear")
        }
    }
}
