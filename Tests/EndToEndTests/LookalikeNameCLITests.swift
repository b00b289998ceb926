import Foundation
import Testing
@testable import RoomKeyCore

/// #11 finding 2: invisible characters are refused in new names, and a name that looks like a known one is refused
/// unless `--allow-confusable`; `room show` marks members whose handles look alike.
@Suite struct LookalikeNameCLITests {
    /// Handles that render like "bob" but hide a zero-width space, BOM, no-break space or right-to-left override.
    static let invisible = ["bob\u{200B}", "\u{FEFF}bob", "bob\u{A0}", "b\u{202E}ob", "bob\u{2066}"]

    @Test(arguments: invisible)
    func initRefusesInvisibleCharacters(_ handle: String) throws {
        let s = try Sandbox()
        let r = try s.roomkey("x", ["init", "--name", handle, "--no-passphrase"])
        #expect(r.code == 64, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: ") && r.stderr.contains("U+"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: s.keyring("x")))
    }

    /// A self-signed card with `handle` (the wire rule allows it; only new names are held to the strict one).
    static func card(handle: String) throws -> String {
        let signing = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate()
        return try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: 1_790_000_000).text
    }

    @Test func contactAddRefusesInvisibleHandlesAndNames() throws {
        let s = try Sandbox()
        try s.person("alice")
        let before = s.rawBytes(of: "alice")
        for handle in Self.invisible {
            let r = try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(try Self.card(handle: handle).utf8))
            #expect(r.code == 65, "\(r)")
            #expect(r.stderr.contains("U+") && !r.stderr.contains(handle), "\(r)")
        }
        let good = try Self.card(handle: "bob")
        for name in Self.invisible {
            let r = try s.roomkey("alice", ["contact", "add", "--as", name, "-"], stdin: Data(good.utf8))
            #expect(r.code == 64, "\(r)")
        }
        #expect(s.rawBytes(of: "alice") == before)
    }

    @Test func aLookalikeOfYourOwnHandleOrAContactIsRefusedUnlessAllowed() throws {
        let s = try Sandbox()
        try s.person("alice")
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(try Self.card(handle: "bob").utf8)).code == 0)
        let before = s.rawBytes(of: "alice")
        let cyrillicAlice = "\u{430}lice", cyrillicBob = "b\u{43E}b"
        for (card, known) in [(try Self.card(handle: cyrillicAlice), "alice"), (try Self.card(handle: cyrillicBob), "bob")] {
            let r = try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8))
            #expect(r.code == 6, "\(r)")
            let lines = r.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines.first?.hasPrefix("roomkey: error: ") == true, "\(r)")
            #expect(lines.first?.contains("looks like \"\(known)\"") == true, "names both: \(r)")
            #expect(lines.last?.contains("--allow-confusable") == true, "\(r)")
            let json = try s.roomkey("alice", ["contact", "add", "--json", "-"], stdin: Data(card.utf8))
            #expect((try json.json()["error"] as? [String: Any])?["kind"] as? String == "refused")
        }
        // A plain name given with --as is checked too.
        let renamed = try s.roomkey("alice", ["contact", "add", "--as", cyrillicBob, "-"], stdin: Data(try Self.card(handle: "robert").utf8))
        #expect(renamed.code == 6, "\(renamed)")
        #expect(s.rawBytes(of: "alice") == before, "nothing stored")

        let allowed = try s.roomkey("alice", ["contact", "add", "--allow-confusable", "-"], stdin: Data(try Self.card(handle: cyrillicAlice).utf8))
        #expect(allowed.code == 0, "\(allowed)")
        #expect(allowed.stderr.contains("roomkey: warning: \"\(cyrillicAlice)\" looks like \"alice\""), "\(allowed)")
        #expect(try s.roomkey("alice", ["contact", "show", cyrillicAlice]).code == 0)
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(try Self.card(handle: "carol").utf8)).code == 0,
                "an unrelated name is not affected")
    }

    @Test func roomShowMarksLookalikeMembers() throws {
        let w = try RoomWorld()
        let fake = "b\u{43E}b"
        #expect(try w.s.roomkey("fakebob", ["init", "--name", fake, "--no-passphrase", "-q"]).code == 0)
        let card = try w.s.roomkey("fakebob", ["id", "export"]).stdout
        #expect(try w.rk("alice", ["contact", "add", "--allow-confusable", "-"], stdin: Data(card.utf8)).code == 0)
        let created = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", fake, "--member", "carol"])
        #expect(created.code == 0, "\(created)")

        let show = try w.rk("alice", ["room", "show", "team"])
        #expect(show.code == 0, "\(show)")
        let lines = show.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix("  bob  LOOKS LIKE \"\(fake)\"") }, "\(show)")
        #expect(lines.contains { $0.hasSuffix("  \(fake)  LOOKS LIKE \"bob\"") }, "\(show)")
        #expect(lines.contains { $0.hasSuffix("  carol") }, "\(show)")
        #expect(show.stderr.contains("roomkey: warning: member \"bob\" ("), "\(show)")

        let members = try #require(try w.show("alice")["members"] as? [[String: Any]])
        let byHandle = Dictionary(uniqueKeysWithValues: members.compactMap { m in (m["handle"] as? String).map { ($0, m) } })
        let bobID = byHandle["bob"]?["id"] as? String, fakeID = byHandle[fake]?["id"] as? String
        #expect(bobID != nil && fakeID != nil)
        #expect(byHandle["bob"]?["looks_like"] as? [String] == [fakeID].compactMap { $0 })
        #expect(byHandle[fake]?["looks_like"] as? [String] == [bobID].compactMap { $0 })
        #expect(byHandle["carol"]?["looks_like"] == nil && byHandle["alice"]?["looks_like"] == nil)
    }
}
