import Foundation
import Testing

/// Scripted administration end to end: apply, offboard, report, backup and restore, completions.
@Suite struct AdministrationCLITests {
    /// Five keyrings: RoomWorld's four plus erin, who exchanges cards with alice.
    static func fiveWorld() throws -> RoomWorld {
        let w = try RoomWorld()
        let erin = try w.s.person("erin")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(erin.utf8)).code == 0)
        let alice = try w.rk("alice", ["id", "export"]).stdout
        #expect(try w.rk("erin", ["contact", "add", "-"], stdin: Data(alice.utf8)).code == 0)
        return w
    }

    static let onboarding = """
        # onboarding, week 48
        create eng bob carol
        create ops dave      # ops starts small
        add eng dave
        promote eng bob
        add ops erin

        rotate eng
        """

    @Test func onboardingScriptMakesOneCommitPerRoom() throws {
        let w = try Self.fiveWorld()
        let r = try w.rk("alice", ["apply", "-", "--json"], stdin: Data(Self.onboarding.utf8))
        #expect(r.code == 0, "\(r)")
        let rooms = try #require(try r.json()["rooms"] as? [[String: Any]])
        #expect(rooms.map { $0["name"] as? String } == ["eng", "ops"])
        #expect(rooms.allSatisfy { $0["epoch"] as? Int == 0 && $0["bundle"] is String })
        #expect(rooms.first?["operations"] as? [String] == ["create", "add", "add", "add", "promote"])
        #expect(try w.bundles().count == 2)
        try w.exchange(w.people + ["erin"])
        for who in ["bob", "carol", "dave"] {
            let eng = try w.show(who, room: "eng")
            #expect(eng["epoch"] as? Int == 0, "\(who)")
            #expect((eng["members"] as? [[String: Any]])?.filter { $0["admin"] as? Bool == true }.count == 2)
        }
        #expect(try w.show("erin", room: "ops")["epoch"] as? Int == 0)
        // A second script: several changes to one existing room become one commit.
        let more = try w.rk("alice", ["apply", "-"], stdin: Data("remove eng carol\ndemote eng bob\nadd ops bob\n".utf8))
        #expect(more.code == 0, "\(more)")
        #expect(try w.show("alice", room: "eng")["epoch"] as? Int == 1)
        #expect(try w.show("alice", room: "ops")["epoch"] as? Int == 1)
    }

    @Test func aBadScriptAppliesNothingAndDryRunWritesNothing() throws {
        let w = try Self.fiveWorld()
        let before = try w.snapshot("alice")
        let bad = try w.rk("alice", ["apply", "-"], stdin: Data("create eng bob\nadd eng carol\nadd eng zed\n".utf8))
        // A contact or room that is not here: exit 4, as from 'room add' (DESIGN §5).
        #expect(bad.code == 4, "\(bad)")
        #expect(bad.stderr.hasPrefix("roomkey: error: line 3: no contact named \"zed\""))
        #expect(try w.snapshot("alice") == before)
        #expect(try w.bundles().isEmpty)
        let verb = try w.rk("alice", ["apply", "-"], stdin: Data("create eng bob\nfrobnicate eng\n".utf8))
        #expect(verb.code == 65)
        #expect(verb.stderr.contains("line 2: unknown verb \"frobnicate\""))
        let room = try w.rk("alice", ["apply", "-"], stdin: Data("add nowhere bob\n".utf8))
        #expect(room.code == 4)
        #expect(room.stderr.contains("line 1: no room named \"nowhere\""))
        // Removing a non-member is refused by a rule: exit 6, as from 'room remove'.
        let rule = try w.rk("alice", ["apply", "-"], stdin: Data("create eng bob\nremove eng carol\n".utf8))
        #expect(rule.code == 6, "\(rule)")
        #expect(rule.stderr.contains("line 2:"))
        let dry = try w.rk("alice", ["apply", "-", "--dry-run"], stdin: Data(Self.onboarding.utf8))
        #expect(dry.code == 0, "\(dry)")
        // The dry run names whom each operation is about (a review: `add proj carol#work` added "carol" unseen).
        let ids = try ["bob", "carol", "dave"].map { try w.keyring($0).identityCard().id.hex }
        #expect(dry.stdout.contains("would commit eng epoch 0: create, add bob (\(ids[0])), add carol (\(ids[1])), add dave (\(ids[2])), promote bob (\(ids[0]))"), "\(dry)")
        #expect(try w.snapshot("alice") == before)
        #expect(try w.bundles().isEmpty)
    }

    @Test func offboardingRemovesEverywhereItCan() throws {
        let w = try Self.fiveWorld()
        #expect(try w.rk("alice", ["apply", "-"], stdin: Data(Self.onboarding.utf8)).code == 0)
        // bob runs his own room with alice and dave; alice is only a member there.
        for (a, b) in [("bob", "alice"), ("bob", "dave"), ("dave", "bob")] {
            let card = try w.rk(b, ["id", "export"]).stdout
            #expect(try w.rk(a, ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        }
        #expect(try w.rk("bob", ["room", "create", "side", "--member", "alice", "--member", "dave"]).code == 0)
        try w.exchange(w.people + ["erin"])
        let r = try w.rk("alice", ["offboard", "dave", "--json"])
        #expect(r.code == 1, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        let status = Dictionary(uniqueKeysWithValues: results.compactMap { d in (d["name"] as? String).map { ($0, d["status"] as? String ?? "") } })
        #expect(status == ["eng": "removed", "ops": "removed", "side": "needs-another-admin"])
        #expect(r.stderr.contains("you are not an admin of side"))
        try w.exchange(w.people + ["erin"])
        for room in ["eng", "ops"] {
            let members = (try w.show("alice", room: room)["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
            #expect(!members.contains("dave"), "\(room)")
        }
        let report = try w.rk("alice", ["room", "report", "eng", "--json"]).json()
        let epochs = try #require(report["epochs"] as? [[String: Any]])
        #expect(epochs.count == 2)
        #expect((epochs.last?["operations"] as? [String]) == ["remove dave"])
        let made = (epochs.last?["bundles"] as? [[String: Any]] ?? []).first { $0["direction"] as? String == "made" }
        #expect((made?["recipients"] as? [String])?.sorted() == ["bob", "carol"])
    }

    @Test func backupRestoreAndRefusal() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let backup = w.s.path("alice.backup")
        #expect(try w.rk("alice", ["backup", "-o", backup]).code == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let raw = try Data(contentsOf: URL(fileURLWithPath: backup))
        #expect(raw.range(of: Data("team".utf8)) == nil)
        // Restoring over an existing keyring needs --force.
        let before = try w.snapshot("alice")
        let refused = try w.rk("alice", ["restore", backup])
        #expect(refused.code == 1, "\(refused)")
        #expect(refused.stderr.contains("restore never replaces one without --force"))
        #expect(try w.snapshot("alice") == before)
        let fresh = try CLI.run(["restore", backup, "--keyring", w.s.path("restored/keyring.sqlite"), "--json"])
        #expect(fresh.code == 0, "\(fresh)")
        let shown = try CLI.run(["room", "show", "team", "--keyring", w.s.path("restored/keyring.sqlite"), "--json"]).json()
        #expect(shown["epoch"] as? Int == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        let forced = try w.rk("alice", ["restore", backup, "--force"])
        #expect(forced.code == 0, "\(forced)")
        #expect(try w.show("alice")["epoch"] as? Int == 0)
        let events = (try w.rk("alice", ["audit", "--json"]).json()["entries"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
        #expect(events.last == "restore")
        #expect(try w.rk("alice", ["audit", "--verify"]).code == 0)
    }

    @Test func pruneDeletesStalePendingBundles() throws {
        let w = try RoomWorld()
        let now = 1_900_000_000
        let clock = ["ROOMKEY_TEST_NOW": String(now)]
        #expect(try w.s.roomkey("alice", ["room", "create", "team", "--member", "bob", "-o", w.s.path("b0")], env: clock).code == 0)
        #expect(try w.s.roomkey("alice", ["room", "promote", "team", "bob", "-o", w.s.path("b1")], env: clock).code == 0)
        #expect(try w.s.roomkey("bob", ["receive", w.s.path("b1")], env: clock).code == 5)
        let early = try w.s.roomkey("bob", ["prune", "--json"], env: ["ROOMKEY_TEST_NOW": String(now + 3_600)]).json()
        #expect(early["deleted_pending_bundles"] as? Int == 0)
        let late = try w.s.roomkey("bob", ["prune", "--json"], env: ["ROOMKEY_TEST_NOW": String(now + 73 * 3_600)]).json()
        #expect(late["deleted_pending_bundles"] as? Int == 1)
        let events = (try w.rk("bob", ["audit", "--json"]).json()["entries"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
        #expect(events.contains("prune"))
        // With the pending commit gone, receiving epoch 0 applies it alone.
        #expect(try w.s.roomkey("bob", ["receive", w.s.path("b0")], env: clock).code == 0)
        #expect(try w.show("bob")["epoch"] as? Int == 0)
    }

    @Test func completionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try CLI.run(["--generate-completion-script", shell])
            #expect(r.code == 0)
            #expect(r.stdout.contains("roomkey"))
        }
    }
}
