import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Two identities with the same handle: adding the second is refused unless asked for, and listings tell them apart.
@Suite struct SameHandleCLITests {
    /// RoomWorld plus a second identity whose handle is also "bob", a contact of alice's as "bob2"; returns its id.
    static func twoBobs(_ w: RoomWorld) throws -> IdentityID {
        #expect(try w.s.roomkey("otherbob", ["init", "--name", "bob", "--no-passphrase", "-q"]).code == 0)
        let card = try w.s.roomkey("otherbob", ["id", "export"]).stdout
        let added = try w.rk("alice", ["contact", "add", "--as", "bob2", "-"], stdin: Data(card.utf8))
        #expect(added.code == 0, "\(added)")
        return try Keyring.open(path: w.s.keyring("otherbob"), passphrase: { throw KeyringError.passphraseRequired },
                                random: SystemRandom()).identityCard().id
    }

    @Test func addingASecondBobIsRefusedUnlessAllowedAndListingsShowShortIDs() throws {
        let w = try RoomWorld()
        let bob2 = try Self.twoBobs(w)
        let bob = try w.keyring("bob").identityCard().id
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let before = try w.snapshot("alice")
        let bundles = try w.bundles()

        let refused = try w.rk("alice", ["room", "add", "team", "bob2"])
        #expect(refused.code == 6, "\(refused)")
        let lines = refused.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(refused)")
        #expect(lines.first?.hasPrefix("roomkey: error: ") == true)
        #expect(lines.first?.contains("\"bob\"") == true && lines.first?.contains(bob.shortHex) == true, "\(refused)")
        #expect(lines.last?.hasPrefix("roomkey: hint: ") == true && lines.last?.contains("--allow-same-handle") == true, "\(refused)")
        let json = try w.rk("alice", ["room", "add", "team", "bob2", "--json"])
        #expect(json.code == 6)
        #expect((try json.json()["error"] as? [String: Any])?["kind"] as? String == "refused")
        #expect(try w.show("alice")["epoch"] as? Int == 0)
        #expect(try w.snapshot("alice") == before)
        #expect(try w.bundles() == bundles)

        // A new room with both, and an apply script adding the second, are refused the same way.
        let create = try w.rk("alice", ["room", "create", "pair", "--member", "bob", "--member", "bob2"])
        #expect(create.code == 6, "\(create)")
        #expect(create.stderr.contains(bob.shortHex) && create.stderr.contains(bob2.shortHex), "\(create)")
        let script = try w.rk("alice", ["apply", "-"], stdin: Data("add team carol\nadd team bob2\n".utf8))
        #expect(script.code == 6, "\(script)")
        #expect(script.stderr.hasPrefix("roomkey: error: line 2: "), "\(script)")
        #expect(script.stderr.contains("--allow-same-handle"))
        #expect(try w.snapshot("alice") == before)

        let allowed = try w.rk("alice", ["room", "add", "team", "bob2", "--allow-same-handle"])
        #expect(allowed.code == 0, "\(allowed)")
        #expect(try w.show("alice")["epoch"] as? Int == 1)
        let show = try w.rk("alice", ["room", "show", "team"])
        #expect(show.code == 0)
        let labels = ["bob (\(bob.shortHex))", "bob (\(bob2.shortHex))"]
        #expect(bob.shortHex != bob2.shortHex)
        for label in labels { #expect(show.stdout.contains("  \(label)\n"), "\(show)") }
        #expect(show.stdout.contains("  alice\n"), "a unique handle stays plain: \(show)")
        let report = try w.rk("alice", ["room", "report", "team"])
        for label in labels { #expect(report.stdout.contains(label), "\(report)") }
        let log = try w.rk("alice", ["room", "log", "team"])
        for label in labels { #expect(log.stdout.contains(label), "\(log)") }
        // JSON keeps the plain handles; the ids tell them apart.
        let members = try #require(w.show("alice")["members"] as? [[String: Any]])
        #expect(members.compactMap { $0["handle"] as? String }.sorted() == ["alice", "bob", "bob"])

        // apply and create take the flag too.
        let more = try w.rk("alice", ["apply", "-", "--allow-same-handle"], stdin: Data("create pair bob bob2\n".utf8))
        #expect(more.code == 0, "\(more)")
    }

    /// A script's lines see the handles the lines before them took or freed: the index kept while it is planned
    /// follows each line, an add and a removal alike.
    @Test func aScriptsLinesSeeTheHandlesEarlierLinesTookOrFreed() throws {
        let w = try RoomWorld()
        let bob2 = try Self.twoBobs(w)
        let bob = try w.keyring("bob").identityCard().id
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "carol"]).code == 0)
        let before = try w.snapshot("alice")

        let taken = try w.rk("alice", ["apply", "-"], stdin: Data("add team bob\npromote team bob\nadd team bob2\n".utf8))
        #expect(taken.code == 6, "\(taken)")
        #expect(taken.stderr.hasPrefix("roomkey: error: line 3: ") && taken.stderr.contains(bob.shortHex), "\(taken)")
        #expect(try w.snapshot("alice") == before)

        let freed = try w.rk("alice", ["apply", "-"], stdin: Data("add team bob\nremove team bob\nadd team bob2\n".utf8))
        #expect(freed.code == 0, "\(freed)")
        let members = try #require(w.show("alice")["members"] as? [[String: Any]])
        #expect(Set(members.compactMap { $0["id"] as? String }).isSuperset(of: [bob2.hex]), "\(members)")
        #expect(!members.contains { $0["id"] as? String == bob.hex }, "\(members)")
    }
}
