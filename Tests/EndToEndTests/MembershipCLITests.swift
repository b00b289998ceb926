import Foundation
import Testing
@testable import RoomKeyCore

/// Transcripts of key changes that no longer block what does not seal to the new key, `room replace`, declarative
/// `room members`, `--if-missing`/`--if-present`, and idempotent `apply` scripts.
@Suite struct MembershipCLITests {
    /// alice (admin) with bob, carol and dave in room "team", everyone at epoch 0.
    static func world() throws -> RoomWorld {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        return w
    }

    /// `who` makes a new keyring (a new identity key) and alice adds its card: a pending key change. Returns (old id, new id).
    @discardableResult
    static func changeKey(_ w: RoomWorld, _ who: String) throws -> (old: String, new: String) {
        let old = try #require(try w.rk(who, ["id", "--json"]).json()["id"] as? String)
        try FileManager.default.removeItem(atPath: w.s.path(who))
        let card = try w.s.person(who)
        let add = try w.rk("alice", ["contact", "add", "-"], stdin: Data(card.utf8))
        #expect(add.code == 0, "\(add)")
        #expect(add.stderr.contains("the identity key of \"\(who)\" changed"))
        let new = try #require(try w.rk(who, ["id", "--json"]).json()["id"] as? String)
        return (old, new)
    }

    static func epoch(_ w: RoomWorld, _ room: String = "team") throws -> Int {
        try #require(try w.show("alice", room: room)["epoch"] as? Int)
    }

    @Test func removingOneMemberWhileAnotherHasAPendingKeyChangeSucceeds() throws {
        let w = try Self.world()
        let carol = try Self.changeKey(w, "carol")
        let remove = try w.rk("alice", ["room", "remove", "team", "bob", "--json"])
        #expect(remove.code == 0, "\(remove)")
        #expect(!remove.stderr.contains("error"))
        // Sealed to the roster as it is: dave and carol's old key.
        #expect(try remove.json()["recipients"] as? Int == 2)
        #expect(try Self.epoch(w) == 1)
        let off = try w.rk("alice", ["offboard", "dave", "--json"])
        #expect(off.code == 0, "\(off)")
        #expect((try off.json()["results"] as? [[String: Any]])?.first?["status"] as? String == "removed")
        // The old key is still what the roster holds; room show says so and names the command.
        let members = try #require(try w.show("alice")["members"] as? [[String: Any]])
        let old = try #require(members.first { $0["id"] as? String == carol.old })
        #expect(old["trust"] as? String == "key-changed")
        #expect(old["replace_command"] as? String == "roomkey room replace team carol")
    }

    /// A room name is chosen by whoever made the room: the suggested command quotes it, so running it (as a script
    /// does with `replace_command`) runs `roomkey room replace` on that room and nothing the name holds (a review found
    /// `$(...)` in a room name executed).
    @Test func suggestedReplaceCommandQuotesTheRoomName() throws {
        let w = try RoomWorld()
        let marker = w.s.path("ran")
        let name = "ops $(touch \(marker))"
        #expect(try w.rk("alice", ["room", "create", name, "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange()
        try Self.changeKey(w, "carol")
        #expect(try w.rk("alice", ["contact", "accept", "carol"]).code == 0)
        let show = try w.rk("alice", ["room", "show", name, "--json"])
        let members = try #require(try show.json()["members"] as? [[String: Any]])
        let command = try #require(members.compactMap { $0["replace_command"] as? String }.first)
        #expect(command == "roomkey room replace 'ops $(touch \(marker))' carol", "\(command)")
        // The shell reads it back as the three words roomkey needs, the name whole.
        let echo = Process()
        echo.executableURL = URL(fileURLWithPath: "/bin/sh")
        echo.arguments = ["-c", "printf '%s\\n' " + command.dropFirst("roomkey ".count)]
        let pipe = Pipe()
        echo.standardOutput = pipe
        try echo.run()
        echo.waitUntilExit()
        let words = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(words == "room\nreplace\n\(name)\ncarol\n", "\(words)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        let accept = try w.rk("alice", ["room", "show", name])
        #expect(accept.stderr.contains("'roomkey room replace 'ops $(touch"), "\(accept)")
    }

    @Test func rotatingWhileAKeyChangeIsPendingSealsToTheOldKey() throws {
        let w = try Self.world()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.exchange()
        try Self.changeKey(w, "carol")
        let rotate = try w.rk("alice", ["room", "rotate", "team", "--json"])
        #expect(rotate.code == 0, "\(rotate)")
        #expect(try rotate.json()["recipients"] as? Int == 3)
        // Another admin's commit arrives: alice's own new sender key for the epoch is made and sealed, not held back.
        #expect(try w.rk("bob", ["room", "remove", "team", "dave"]).code == 0)
        let receive = try w.rk("alice", ["receive", "--json"] + (try w.bundles()))
        #expect(receive.code == 0, "\(receive)")
        #expect(!receive.stderr.contains("changed"), "\(receive)")
        #expect(try Self.epoch(w) == 2)
        let results = try #require(try receive.json()["results"] as? [[String: Any]])
        #expect(results.contains { ($0["bundles"] as? [String])?.isEmpty == false }, "\(receive)")
    }

    @Test func addingTheNewKeyIsRefusedUntilAcceptedThenReplaceSwapsItInOneCommit() throws {
        let w = try Self.world()
        let carol = try Self.changeKey(w, "carol")
        let before = try w.snapshot("alice")
        let add = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(add.code == 6, "\(add)")
        #expect(add.stderr.contains("roomkey: error: \"carol\" is a member of room \"team\" under its old identity key (\(carol.old.prefix(8))); its new key is neither verified nor accepted"))
        #expect(add.stderr.contains("roomkey: hint: compare safety numbers with 'roomkey verify carol' or run 'roomkey contact accept carol', then 'roomkey room replace team carol'"))
        let early = try w.rk("alice", ["room", "replace", "team", "carol"])
        #expect(early.code == 6, "\(early)")
        #expect(try w.snapshot("alice") == before)
        let show = try w.rk("alice", ["room", "show", "team"])
        #expect(show.stdout.contains("(old key; run 'roomkey room replace team carol')"))
        #expect(show.stderr.contains("then 'roomkey room replace team carol'"))

        let accept = try w.rk("alice", ["contact", "accept", "carol"])
        #expect(accept.code == 0, "\(accept)")
        #expect(accept.stdout.contains("the old identity key of carol is still a member of 1 room:"))
        #expect(accept.stdout.contains("team (") && accept.stdout.contains("run 'roomkey room replace team carol'"))
        // Adding the new key beside the old one stays refused: the hint names the swap.
        let beside = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(beside.code == 6, "\(beside)")
        #expect(beside.stderr.contains("roomkey: hint: swap the old key for the new one with 'roomkey room replace team carol'"))

        let replace = try w.rk("alice", ["room", "replace", "team", "carol", "--json"])
        #expect(replace.code == 0, "\(replace)")
        let doc = try replace.json()
        #expect(doc["epoch"] as? Int == 1)
        let ops = try #require(doc["operations"] as? [[String: Any]])
        #expect(ops.map { "\($0["op"] ?? "") \($0["id"] ?? "")" } == ["add \(carol.new)", "remove \(carol.old)"])
        let log = try w.rk("alice", ["room", "log", "team", "--json"]).json()
        let last = try #require((log["commits"] as? [[String: Any]])?.last)
        #expect((last["operations"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [carol.new, carol.old])
        let text = try w.rk("alice", ["room", "log", "team"]).stdout
        #expect(text.contains("add carol (\(carol.new.prefix(8)))") && text.contains("remove carol (\(carol.old.prefix(8)))"))
        let again = try w.rk("alice", ["room", "replace", "team", "carol"])
        #expect(again.code == 6)
        #expect(again.stderr.contains("already a member of room \"team\" under its current identity key"))
        let never = try w.rk("alice", ["room", "replace", "team", "bob"])
        #expect(never.code == 6)
        #expect(never.stderr.contains("the identity key of contact \"bob\" has not changed"))

        // The new carol joins with the whole log.
        #expect(try w.rk("carol", ["contact", "add", "-"], stdin: Data(try w.s.roomkey("alice", ["id", "export"]).stdout.utf8)).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        #expect(try w.show("carol")["epoch"] as? Int == 1)
    }

    @Test func aChangedContactOutsideTheRoomIsAddedOnlyOnceAccepted() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try Self.changeKey(w, "dave")
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 6, "\(add)")
        #expect(add.stderr.contains("roomkey: hint: compare safety numbers with 'roomkey verify dave', or run 'roomkey contact accept dave'"))
        let script = try w.rk("alice", ["apply", "-"], stdin: Data("add team dave\n".utf8))
        #expect(script.code == 6, "\(script)")
        #expect(script.stderr.contains("roomkey: error: line 1:"))
        #expect(try w.rk("alice", ["contact", "accept", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
    }

    @Test func roomMembersMakesOneCommitThenIsUpToDate() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let members = w.s.path("members.txt"), admins = w.s.path("admins.txt")
        try Data("# the team\nbob\ncarol\ndave\n".utf8).write(to: URL(fileURLWithPath: members))
        try Data("carol\n".utf8).write(to: URL(fileURLWithPath: admins))
        let before = try w.snapshot("alice")
        let dry = try w.rk("alice", ["room", "members", "team", "--members-file", members, "--admins-file", admins, "--dry-run", "--json"])
        #expect(dry.code == 0, "\(dry)")
        #expect((try dry.json()["operations"] as? [[String: Any]])?.compactMap { $0["op"] as? String } == ["add", "add", "promote"])
        #expect(try dry.json()["dry_run"] as? Bool == true)
        #expect(try w.snapshot("alice") == before)
        #expect(try w.bundles().count == 1)

        let first = try w.rk("alice", ["room", "members", "team", "--members-file", members, "--admins-file", admins])
        #expect(first.code == 0, "\(first)")
        #expect(first.stdout.contains("changed room team"))
        #expect(try Self.epoch(w) == 1)
        #expect(try w.bundles().count == 2)
        let second = try w.rk("alice", ["room", "members", "team", "--members-file", members, "--admins-file", admins])
        #expect(second.code == 0, "\(second)")
        #expect(second.stdout.contains("is already up to date at epoch 1"))
        #expect(try Self.epoch(w) == 1)
        #expect(try w.bundles().count == 2)
        let json = try w.rk("alice", ["room", "members", "team", "--members-file", members, "--json"]).json()
        #expect(json["up_to_date"] as? Bool == true && json["bundle"] == nil)

        // A shorter file: bob and dave go, carol stays admin (no --admins-file: roles are kept); alice is not named and stays.
        try Data("carol\n".utf8).write(to: URL(fileURLWithPath: members))
        let shrink = try w.rk("alice", ["room", "members", "team", "--members-file", members, "--json"])
        #expect(shrink.code == 0, "\(shrink)")
        #expect((try shrink.json()["operations"] as? [[String: Any]])?.compactMap { $0["op"] as? String } == ["remove", "remove"])
        let roster = try #require(try w.show("alice")["members"] as? [[String: Any]])
        #expect(Set(roster.compactMap { $0["handle"] as? String }) == ["alice", "carol"])
        #expect(roster.allSatisfy { $0["admin"] as? Bool == true })
    }

    @Test func ifMissingAndIfPresentAreIdempotent() throws {
        let w = try Self.world()
        #expect(try w.rk("alice", ["room", "remove", "team", "dave"]).code == 0)
        let plain = try w.rk("alice", ["room", "add", "team", "bob"])
        #expect(plain.code == 6, "\(plain)")
        #expect(plain.stderr.contains("\"bob\" is already a member of room \"team\""))
        let count = try w.bundles().count
        let add = try w.rk("alice", ["room", "add", "team", "bob", "dave", "--if-missing", "--json"])
        #expect(add.code == 0, "\(add)")
        #expect((try add.json()["operations"] as? [[String: Any]])?.compactMap { $0["handle"] as? String } == ["dave"])
        #expect(try Self.epoch(w) == 2)
        let addAgain = try w.rk("alice", ["room", "add", "team", "bob", "dave", "--if-missing"])
        #expect(addAgain.code == 0, "\(addAgain)")
        #expect(addAgain.stdout.contains("already up to date"))
        #expect(try Self.epoch(w) == 2)
        #expect(try w.bundles().count == count + 1)
        let remove = try w.rk("alice", ["room", "remove", "team", "dave", "zed", "--if-present"])
        #expect(remove.code == 0, "\(remove)")
        #expect(try Self.epoch(w) == 3)
        let removeAgain = try w.rk("alice", ["room", "remove", "team", "dave", "zed", "--if-present", "--json"])
        #expect(removeAgain.code == 0, "\(removeAgain)")
        #expect(try removeAgain.json()["up_to_date"] as? Bool == true)
        #expect(try Self.epoch(w) == 3)
        #expect(try w.bundles().count == count + 2)
    }

    @Test func anOnboardingScriptOfFiftyRunTwiceCommitsOncePerRoom() throws {
        let w = try RoomWorld()
        let people = (0..<50).map { String(format: "p%02d", $0) }
        let cards = try people.map { name in
            try IdentityCard(handle: name, signer: try SigningKeyPair.generate(), sealingKey: try SealingKeyPair.generate().publicKey,
                             created: 1_790_000_000).text
        }
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(cards.joined(separator: "\n").utf8)).code == 0)
        for room in ["all", "eng", "ops"] { #expect(try w.rk("alice", ["room", "create", room]).code == 0) }
        let script = """
            # onboarding
            members all \(people.joined(separator: " "))
            members eng \(people[0..<20].joined(separator: " ")) --admins p00 p01
            add ops --if-missing \(people[20..<35].joined(separator: " "))
            add ops --if-missing bob
            remove ops --if-present \(people[40..<45].joined(separator: " "))
            """
        let count = try w.bundles().count
        let first = try w.rk("alice", ["apply", "-", "--json"], stdin: Data(script.utf8))
        #expect(first.code == 0, "\(first)")
        let rooms = try #require(try first.json()["rooms"] as? [[String: Any]])
        #expect(rooms.map { $0["epoch"] as? Int } == [1, 1, 1])
        #expect(rooms.allSatisfy { $0["bundle"] is String && $0["up_to_date"] as? Bool == false })
        #expect(try w.bundles().count == count + 3)
        #expect((try w.show("alice", room: "all")["members"] as? [Any])?.count == 51)
        let eng = try #require(try w.show("alice", room: "eng")["members"] as? [[String: Any]])
        #expect(eng.count == 21 && eng.filter { $0["admin"] as? Bool == true }.count == 3)
        #expect((try w.show("alice", room: "ops")["members"] as? [Any])?.count == 17)

        let second = try w.rk("alice", ["apply", "-", "--json"], stdin: Data(script.utf8))
        #expect(second.code == 0, "\(second)")
        let again = try #require(try second.json()["rooms"] as? [[String: Any]])
        #expect(again.map { $0["epoch"] as? Int } == [1, 1, 1])
        #expect(again.allSatisfy { $0["bundle"] == nil && $0["up_to_date"] as? Bool == true })
        #expect(try w.bundles().count == count + 3)
        let text = try w.rk("alice", ["apply", "-"], stdin: Data(script.utf8))
        #expect(text.stdout.contains("all is already up to date at epoch 1"))
        for room in ["all", "eng", "ops"] { #expect(try Self.epoch(w, room) == 1) }
    }
}
