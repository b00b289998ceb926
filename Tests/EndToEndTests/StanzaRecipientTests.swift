import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// The recipients a bundle is sealed to, taken partly from the room's stored summary (members it counts as classical
/// are not looked up as contacts), are always those the contact-by-contact rule gives: before and after an upgrade, with
/// no summary, with a summary made stale in the running transaction, and an edited summary is refused.
@Suite struct StanzaRecipientTests {
    /// (id, post-quantum) of each recipient: by `stanzaRecipients`, and by `effectiveCard` member by member.
    static func both(_ keyring: Keyring, _ db: Database) throws -> (fast: [String], slow: [String]) {
        let me = try keyring.identityCard(db)
        let room = try keyring.findRoom(db, "team")
        let roster = room.state.roster
        let fast = try keyring.stanzaRecipients(db, roster: roster, me: me, room: room.id).map { "\($0.id.hex) \($0.xwingKey != nil)" }
        let slow = try roster.sortedIDs.filter { $0 != me.id }.compactMap { roster[$0] }
            .map { "\($0.id.hex) \(try keyring.effectiveCard(db, $0, me: me, upgrades: keyring.historyUpgrades(db)).isPostQuantum)" }
        return (fast, slow)
    }

    @Test func recipientsMatchTheContactRule() throws {
        let m = try PostQuantumCLITests.Mixed()
        let w = m.w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        let keyring = try w.keyring("alice")
        let before = try keyring.read { db in try Self.both(keyring, db) }
        #expect(before.fast == before.slow)
        #expect(before.fast.filter { $0.hasSuffix("false") }.count == 1)

        // carol upgrades; adding her card recounts the summary, so her stanza is X-Wing.
        let up = try w.rk("carol", ["id", "upgrade"])
        #expect(up.code == 0, "\(up)")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(up.stdout.utf8)).code == 0)
        let after = try keyring.read { db in try Self.both(keyring, db) }
        #expect(after.fast == after.slow)
        #expect(after.fast.allSatisfy { $0.hasSuffix("true") })

        // Anyone can make a card named carol of another key; added (a pending key change, not accepted), it moves carol's
        // upgraded card to key history, where it still counts: the member carol is still sealed to with X-Wing (a
        // review: every later stanza of hers was a sealed box).
        let forger = try Sandbox()
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(try forger.person("carol").utf8)).code == 0)
        let forged = try keyring.read { db in try Self.both(keyring, db) }
        #expect(forged.fast == forged.slow)
        #expect(forged.fast.allSatisfy { $0.hasSuffix("true") }, "\(forged.fast)")
        #expect(try w.show("alice")["post_quantum"] as? Bool == true)
        #expect(try keyring.read { db in try keyring.historyUpgrades(db).count } == 1)

        // A summary marked stale in the running transaction, or missing, is not used.
        try keyring.write { db in
            try keyring.noteEveryRoomChanged(db)
            let stale = try Self.both(keyring, db)
            #expect(stale.fast == stale.slow)
            try db.execute(sql: "DELETE FROM room_summary")
            keyring.summariesDue = []
            let none = try Self.both(keyring, db)
            #expect(none.fast == none.slow)
            try keyring.noteEveryRoomChanged(db)
        }
    }

    @Test func anEditedSummaryIsRefused() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let keyring = try w.keyring("alice")
        try keyring.db.write { db in try db.execute(sql: "UPDATE room_summary SET sealed = sealed || x'00'") }
        let rotate = try w.rk("alice", ["room", "rotate", "team"])
        #expect(rotate.code == 2 && rotate.stderr.contains("keyring was edited"), "\(rotate)")
    }
}
