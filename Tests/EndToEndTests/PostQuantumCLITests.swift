import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Post-quantum stanzas end to end: v1 and v2 members in one room, `id upgrade`, `room set --require-pq`, tampering.
@Suite struct PostQuantumCLITests {
    /// alice and bob on v2 cards (made by `init`), carol on a v1 card (a keyring from before post-quantum stanzas).
    final class Mixed {
        let w: RoomWorld
        var cards: [String: String] = [:]

        init(classical: [String] = ["carol"]) throws {
            let s = try Sandbox()
            for p in ["alice", "bob", "carol", "dave"] {
                _ = try s.person(p)
                if classical.contains(p) {
                    try Keyring.open(path: s.keyring(p), passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
                        .makeClassicalIdentityForTests()
                }
                cards[p] = try s.roomkey(p, ["id", "export"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            w = try RoomWorld(sandbox: s, cards: cards)
        }
    }

    static func stanzaKinds(_ path: String) throws -> (version: UInt8, kinds: [IdentityID: RoomKeyCore.Bundle.StanzaKind]) {
        let b = try RoomKeyCore.Bundle.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        return (b.version, Dictionary(uniqueKeysWithValues: zip(b.recipients, b.stanzaKinds)))
    }

    static func id(_ w: RoomWorld, _ who: String) throws -> IdentityID { try w.keyring(who).identityCard().id }

    @Test func initMakesVersion2Cards() throws {
        let s = try Sandbox()
        let card = try s.person("alice")
        #expect(card.hasPrefix("roomkey-card-v2:"))
        let id = try s.roomkey("alice", ["id", "--json"]).json()
        #expect(id["card_version"] as? Int == 2)
        #expect((id["xwing_key"] as? String)?.count == 2 * 1216)
        let again = try s.roomkey("alice", ["id", "upgrade"])
        #expect(again.code == 0 && again.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == card, "\(again)")
    }

    @Test func mixedRoomRoundTripsThenUpgrade() throws {
        let m = try Mixed()
        let w = m.w
        #expect(m.cards["carol"]!.hasPrefix("roomkey-card-v1:") && m.cards["bob"]!.hasPrefix("roomkey-card-v2:"))
        let create = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"])
        #expect(create.code == 0, "\(create)")
        let first = try #require(try w.bundles().first)
        let (version, kinds) = try Self.stanzaKinds(first)
        #expect(version == 2)
        #expect(kinds[try Self.id(w, "bob")] == .xwing)
        #expect(kinds[try Self.id(w, "carol")] == .sealedBox)
        try w.exchange(["alice", "bob", "carol"])
        for who in ["alice", "bob", "carol"] { #expect(try w.show(who)["epoch"] as? Int == 0) }

        // Messages both ways between v1 and v2 members.
        for (from, to) in [("alice", ["bob", "carol"]), ("carol", ["alice", "bob"]), ("bob", ["alice", "carol"])] {
            let file = w.s.path("\(from).msg")
            let enc = try w.rk(from, ["encrypt", "team", "-o", file], stdin: Data("hi from \(from)".utf8))
            #expect(enc.code == 0, "\(enc)")
            try w.exchange(["alice", "bob", "carol"])
            for r in to {
                let dec = try w.rk(r, ["decrypt", file])
                #expect(dec.code == 0 && dec.stdout.contains("hi from \(from)"), "\(r): \(dec)")
            }
        }

        // room show / list name carol as the member still on a v1 card.
        let show = try w.show("alice")
        #expect(show["post_quantum"] as? Bool == false)
        #expect(show["classical_members"] as? [String] == ["carol"])
        let list = try w.rk("alice", ["room", "list"])
        #expect(list.stdout.contains("1 on v1 cards: \"carol\""), "\(list)")

        // carol upgrades: same id and safety number; alice's contact add records an upgrade, not a key change.
        let before = try w.rk("alice", ["verify", "carol", "--json"]).json()
        let up = try w.rk("carol", ["id", "upgrade"])
        #expect(up.code == 0, "\(up)")
        let newCard = up.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newCard.hasPrefix("roomkey-card-v2:"))
        #expect(try IdentityCard.verified(text: newCard).id == (try IdentityCard.verified(text: m.cards["carol"]!)).id)
        let add = try w.rk("alice", ["contact", "add", "-", "--json"], stdin: Data(newCard.utf8))
        #expect(add.code == 0 && add.stdout.contains("upgraded"), "\(add)")
        let after = try w.rk("alice", ["verify", "carol", "--json"]).json()
        #expect(before["safety_number"] as? String != nil)
        #expect(before["safety_number"] as? String == after["safety_number"] as? String)
        let contact = try w.rk("alice", ["contact", "show", "carol", "--json"]).json()
        #expect(contact["keyChanged"] as? Bool != true)
        // An old v1 card again does not downgrade.
        let old = try w.rk("alice", ["contact", "add", "-", "--json"], stdin: Data(m.cards["carol"]!.utf8))
        #expect(old.code == 0 && old.stdout.contains("unchanged"), "\(old)")

        #expect(try w.show("alice")["post_quantum"] as? Bool == true)
        let had = Set(try w.bundles())
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let rotated = try #require(try w.bundles().first { !had.contains($0) })
        let (v2, kinds2) = try Self.stanzaKinds(rotated)
        #expect(v2 == 2 && kinds2.values.allSatisfy { $0 == .xwing } && kinds2.count == 2)
        try w.exchange(["alice", "bob", "carol"])
        let file = w.s.path("after.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", file], stdin: Data("post-quantum".utf8)).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        for r in ["bob", "carol"] { #expect(try w.rk(r, ["decrypt", file]).stdout.contains("post-quantum")) }
    }

    @Test func requirePQRefusesClassicalMembers() throws {
        let m = try Mixed(classical: ["carol", "dave"])
        let w = m.w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let set = try w.rk("alice", ["room", "set", "team", "--require-pq", "--json"])
        #expect(set.code == 0, "\(set)")
        #expect(try set.json()["require_pq"] as? Bool == true)
        #expect(try w.show("alice")["require_pq"] as? Bool == true)
        // A v2-only room under --require-pq distributes as usual.
        try w.exchange(["alice", "bob"])
        let file = w.s.path("pq.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", file], stdin: Data("only pq".utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        try w.exchange(["alice", "bob"])
        #expect(try w.rk("bob", ["decrypt", file]).stdout.contains("only pq"))

        // Adding a v1 member is refused, naming it, and nothing changes.
        let snapshot = try w.snapshot("alice")
        let bundles = try w.bundles()
        let add = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(add.code != 0 && add.stderr.contains("carol") && add.stderr.contains("version 1"), "\(add)")
        let addJSON = try w.rk("alice", ["room", "add", "team", "carol", "dave", "--json"])
        #expect(addJSON.code != 0 && addJSON.stdout.contains("carol") && addJSON.stdout.contains("dave"), "\(addJSON)")
        #expect(try w.snapshot("alice") == snapshot)
        #expect(try w.bundles() == bundles)

        // Without the requirement carol joins; turning it on again refuses distribution, naming her.
        #expect(try w.rk("alice", ["room", "set", "team", "--no-require-pq"]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "carol"]).code == 0)
        let on = try w.rk("alice", ["room", "set", "team", "--require-pq"])
        #expect(on.code == 0 && on.stdout.contains("carol"), "\(on)")
        let rotate = try w.rk("alice", ["room", "rotate", "team"])
        #expect(rotate.code != 0 && rotate.stderr.contains("carol"), "\(rotate)")
        let show = try w.show("alice")
        #expect(show["post_quantum"] as? Bool == false && show["classical_members"] as? [String] == ["carol"])
    }

    @Test func createWithRequirePQRefusesClassicalMembersByName() throws {
        let m = try Mixed(classical: ["carol", "dave"])
        let w = m.w
        let snapshot = try w.snapshot("alice")
        // Members on version 1 cards are refused at creation, each named, and nothing is stored or written.
        let refused = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave", "--require-pq"])
        #expect(refused.code == 6 && refused.stderr.contains("carol") && refused.stderr.contains("dave") && !refused.stderr.contains("bob"),
                "\(refused)")
        #expect(try w.snapshot("alice") == snapshot)
        #expect(try w.bundles().isEmpty)
        // Each name is quoted, so a name holding ", " reads as one.
        #expect(["cards; \"carol\", \"dave\" have", "cards; \"dave\", \"carol\" have"].contains { refused.stderr.contains($0) }, "\(refused)")
        // An all-v2 room is created with the requirement on, and it stays on for later changes.
        let created = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--require-pq"])
        #expect(created.code == 0, "\(created)")
        #expect(try w.show("alice")["require_pq"] as? Bool == true)
        let (version, kinds) = try Self.stanzaKinds(try #require(try w.bundles().first))
        #expect(version == 2 && kinds.values.allSatisfy { $0 == .xwing })
        let add = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(add.code == 6 && add.stderr.contains("carol"), "\(add)")
        // Without the flag a mixed room is made as before.
        #expect(try w.rk("alice", ["room", "create", "mixed", "--member", "carol"]).code == 0)
    }

    @Test func flippedByteInVersion2StanzaStoresNothing() throws {
        let m = try Mixed(classical: [])
        let w = m.w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        let path = try #require(try w.bundles().first)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let bundle = try RoomKeyCore.Bundle.parse(bytes)
        let bob = try Self.id(w, "bob")
        let index = try #require(bundle.recipients.firstIndex(of: bob))
        #expect(bundle.stanzaKinds[index] == .xwing)
        let stanza = RoomKeyCore.Bundle.headerLength + bundle.sealedOffsets[index]   // start of bob's sealed key (enc || ct)
        let before = try w.snapshot("bob")
        // A flipped byte in the X-Wing ciphertext, in the HPKE ciphertext, and in the recipient id.
        for (offset, expected) in [(stanza + 10, "rejected"), (stanza + 1130, "rejected"), (stanza - 2, "not-for-me")] {
            var bad = bytes
            bad[offset] ^= 0x01
            let file = w.s.path("bad-\(offset).roomkey")
            try Data(bad).write(to: URL(fileURLWithPath: file))
            let r = try w.rk("bob", ["receive", file, "--json"])
            #expect(r.stdout.contains(expected) || r.stdout.contains(expected.replacingOccurrences(of: "-", with: "_")), "\(offset): \(r)")
            #expect(try w.snapshot("bob") == before, "bob stored something for a flipped byte at \(offset)")
        }
        // The untouched bundle still applies.
        #expect(try w.rk("bob", ["receive", path]).code == 0)
    }
}
