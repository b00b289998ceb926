import Foundation
import Testing

/// A `receive` whose new sender key cannot be written exits 1, as any command whose bundle cannot be written does (a
/// hostile review found exit 0 with only a warning); the keyring keeps the key, and `outbox flush` writes it.
@Suite struct ReceiveUnsentKeyCLITests {
    @Test func aSenderKeyThatCannotBeWrittenFailsTheReceive() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let removal = w.s.path("removal.roomkey")
        #expect(try w.run("alice", ["room", "remove", "team", "carol", "-o", removal]).code == 0)
        let notAFolder = w.s.path("outbox-is-a-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: notAFolder))
        let r = try w.run("bob", ["receive", removal, "--outbox", notAFolder])
        #expect(r.code == 1, "\(r)")
        #expect(r.stderr.contains("roomkey: warning: your new sender key was not sent: cannot write \(notAFolder): not a directory"), "\(r)")
        #expect(try w.show("bob")["epoch"] as? Int == 1, "the removal itself was applied")
        let flush = try w.run("bob", ["outbox", "flush", "--json"])
        let written = try flush.json()["written"] as? [String]
        #expect(flush.code == 0 && written?.count == 1, "\(flush)")
        // The system's reason, not Foundation's text ("The operation could not be completed. A file with the same name
        // already exists"), also when the file is a parent of the folder.
        let rotate = try w.run("alice", ["room", "rotate", "team", "--outbox", notAFolder + "/sub"])
        #expect(rotate.code == 1 && rotate.stderr.contains("cannot write \(notAFolder)/sub: not a directory"), "\(rotate)")
    }

    /// A rotation a rule refuses (bob's own --require-pq, a member added on a version 1 card) made no bundle: nothing
    /// waits for `outbox flush`, so the receive is not a failure (found by the review of the fix above).
    @Test func aRotationRefusedByPolicyIsNotAnUnwrittenBundle() throws {
        let m = try PostQuantumCLITests.Mixed(classical: ["carol"])
        let w = m.w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.exchange(["alice", "bob"])
        #expect(try w.rk("bob", ["room", "set", "team", "--require-pq"]).code == 0)
        let add = w.s.path("add-carol.roomkey")
        #expect(try w.rk("alice", ["room", "add", "team", "carol", "-o", add]).code == 0)
        let r = try w.rk("bob", ["receive", add])
        #expect(r.code == 0 && r.stderr.contains("your new sender key was not sent"), "\(r)")
        #expect(try w.show("bob")["epoch"] as? Int == 1, "the add was applied")
    }
}
