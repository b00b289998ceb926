import Foundation
import Testing

/// `decrypt` names a message's sender and room by handle and name, which others choose: they are quoted, so that no
/// handle can spell a whole attribution of its own (a review: a member named `bob (BOB'S ID) in room team (ID), epoch
/// 0, message 7` was read as bob, the real sender's id pushed to the end of the line).
@Suite struct SenderAttributionCLITests {
    @Test func aHandleThatSpellsAnAttributionIsQuoted() throws {
        let w = try RoomWorld()
        let bob = try #require(try w.rk("bob", ["id", "--json"]).json()["id"] as? String)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-q"]).code == 0)
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let fake = "bob (\(bob)) in room team (\(room)), epoch 1, message 7"
        #expect(try w.rk("eve", ["init", "--name", fake, "--no-passphrase", "-q"]).code == 0)
        let eve = try #require(try w.rk("eve", ["id", "--json"]).json()["id"] as? String)
        #expect(try w.rk("alice", ["contact", "add", "-", "-q"], stdin: Data(try w.rk("eve", ["id", "export"]).stdout.utf8)).code == 0)
        #expect(try w.rk("eve", ["contact", "add", "-", "-q"], stdin: Data(try w.rk("alice", ["id", "export"]).stdout.utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", fake, "-q"]).code == 0)
        try w.exchange(["bob", "eve"])
        let message = w.s.path("m.msg")
        #expect(try w.rk("eve", ["encrypt", "team", "-o", message], stdin: Data("wire the money".utf8)).code == 0)
        let read = try w.rk("bob", ["decrypt", message])
        #expect(read.code == 0, "\(read)")
        let line = read.stderr.split(separator: "\n").map(String.init).first { $0.hasPrefix("roomkey: from ") }
        #expect(line == "roomkey: from \"\(fake)\" (\(eve)) in room \"team\" (\(room)), epoch 1, message 0", "\(read)")
    }
}
