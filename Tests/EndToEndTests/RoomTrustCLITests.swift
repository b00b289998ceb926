import Foundation
import GRDB
import Testing

/// Room fingerprints, member trust, key changes blocking distribution, and the audit log, end to end.
@Suite struct RoomTrustCLITests {
    static func world() throws -> RoomWorld {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        return w
    }

    @Test func fingerprintConfirmationIsPerEpoch() throws {
        let w = try Self.world()
        let digits = try #require(try w.rk("alice", ["room", "fingerprint", "team", "--json"]).json()["fingerprint"] as? String)
        let spaced = stride(from: 0, to: 60, by: 5).map { i in String(Array(digits)[i..<(i + 5)]) }.joined(separator: " ")
        let before = try w.snapshot("bob")
        let wrong = try w.rk("bob", ["room", "fingerprint", "team", "--confirm", String(repeating: "1", count: 60)])
        #expect(wrong.code == 2, "\(wrong)")
        #expect(try w.snapshot("bob") == before)
        let ok = try w.rk("bob", ["room", "fingerprint", "team", "--confirm", spaced, "--json"])
        #expect(ok.code == 0, "\(ok)")
        #expect(try ok.json()["confirmed"] as? Bool == true)
        #expect(try w.show("bob")["fingerprint_confirmed"] as? Bool == true)
        #expect(try w.rk("alice", ["room", "add", "team", "dave"]).code == 0)
        try w.exchange(["bob"])
        #expect(try w.show("bob")["fingerprint_confirmed"] as? Bool == false)
    }

    @Test func roomShowMarksEachMembersTrust() throws {
        let w = try Self.world()
        let digits = try #require(try w.rk("bob", ["verify", "alice", "--json"]).json()["safety_number"] as? String)
        #expect(try w.rk("alice", ["verify", "bob", "--confirm", digits]).code == 0)
        let members = try #require(try w.show("alice")["members"] as? [[String: Any]])
        let trust = Dictionary(uniqueKeysWithValues: members.compactMap { m in (m["handle"] as? String).map { ($0, m["trust"] as? String ?? "") } })
        #expect(trust == ["alice": "you", "bob": "verified", "carol": "unverified"])
        let bobView = try #require(try w.show("bob")["members"] as? [[String: Any]])
        #expect(bobView.first { $0["handle"] as? String == "carol" }?["trust"] as? String == "not-a-contact")
        let list = try w.rk("alice", ["room", "list"])
        #expect(list.stdout.contains("1 unverified"))
    }

    @Test func aChangedKeyBlocksOnlyTheNewKeyUntilAccepted() throws {
        let w = try Self.world()
        try FileManager.default.removeItem(atPath: w.s.path("carol"))
        let newCard = try w.s.person("carol")
        let add = try w.rk("alice", ["contact", "add", "-"], stdin: Data(newCard.utf8))
        #expect(add.stderr.contains("the identity key of \"carol\" changed"))
        // The roster holds carol's old key, which the room sealed to before: rotating goes on.
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let before = try w.snapshot("alice")
        let addNew = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(addNew.code == 6, "\(addNew)")
        #expect(addNew.stderr.contains("roomkey: hint: compare safety numbers with 'roomkey verify carol' or run 'roomkey contact accept carol', then 'roomkey room replace team carol'"))
        #expect(try w.snapshot("alice") == before)
        let show = try w.rk("alice", ["room", "show", "team", "--json"])
        let carol = (try show.json()["members"] as? [[String: Any]])?.first { $0["handle"] as? String == "carol" }
        #expect(carol?["trust"] as? String == "key-changed")
        #expect(show.stderr.contains("roomkey: warning: member carol"))
        #expect(try w.rk("alice", ["room", "list"]).stdout.contains("1 KEY-CHANGED"))
        #expect(try w.rk("alice", ["contact", "accept", "carol"]).code == 0)
        #expect(try w.rk("alice", ["room", "replace", "team", "carol"]).code == 0)
    }

    @Test func auditLogChainsEveryChangeAndCatchesTampering() throws {
        let w = try Self.world()
        let verify = try w.rk("alice", ["audit", "--verify", "--json"])
        #expect(verify.code == 0, "\(verify)")
        let count = try #require(try verify.json()["entries"] as? Int)
        #expect(count >= 6)
        let events = (try w.rk("alice", ["audit", "--json"]).json()["entries"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
        for event in ["init", "contact-add", "commit-made", "bundle-made", "bundle-received"] { #expect(events.contains(event), "\(event)") }

        // Edit one byte of entry 2 directly in the SQLite file.
        let db = try DatabaseQueue(path: w.s.keyring("alice"))
        try db.write { db in try db.execute(sql: "UPDATE audit_entry SET sealed = substr(sealed, 1, 30) || x'ff' || substr(sealed, 32) WHERE seq = 2") }
        let edited = try w.rk("alice", ["audit", "--verify"])
        #expect(edited.code == 2)
        #expect(edited.stderr.hasPrefix("roomkey: error: audit log is broken at entry 2"))

        // Delete entry 3 from a fresh world, then the last entry from another.
        let w2 = try Self.world()
        try DatabaseQueue(path: w2.s.keyring("alice")).write { try $0.execute(sql: "DELETE FROM audit_entry WHERE seq = 3") }
        let deleted = try w2.rk("alice", ["audit", "--verify"])
        #expect(deleted.code == 2)
        #expect(deleted.stderr.contains("broken at entry 3: entry is missing"))
        let w3 = try Self.world()
        try DatabaseQueue(path: w3.s.keyring("alice")).write { try $0.execute(sql: "DELETE FROM audit_entry WHERE seq = (SELECT MAX(seq) FROM audit_entry)") }
        #expect(try w3.rk("alice", ["audit", "--verify"]).code == 2)
    }
}
