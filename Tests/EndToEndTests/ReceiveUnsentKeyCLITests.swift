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
}
