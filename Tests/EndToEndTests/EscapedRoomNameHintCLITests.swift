import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A received room name may hold characters that a line of text shows escaped (a genesis of another admin is only held
/// to the basic name rules). A suggested command then names the room by its id: the escaped name, pasted back, named no
/// room and exited 4 (a hostile review, with a name holding U+2028 and U+202E).
@Suite struct EscapedRoomNameHintCLITests {
    @Test func aSuggestedCommandNamesARoomWhoseNameShowsEscapedByItsID() throws {
        let w = try RoomWorld()
        // alice's room, never delivered: its id carries the genesis forged below, named with hidden characters.
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "-o", w.s.path("unsent.roomkey")]).code == 0)
        let alice = try w.keyring("alice")
        let me = try alice.identity()
        let room = try alice.room("team").id
        let name = "r7\u{2028}roomkey: note: fake\u{202e}"
        let ops: [RoomKeyCore.Operation] = [.create(name: name, creator: me.card), .add(try w.keyring("bob").identityCard())]
        let roster = try RoomState.apply(ops, to: Roster(), author: me.id, genesis: true)
        let genesis = Commit(roomID: room, epoch: 0, previousHead: Commit.genesisHead, signer: me.signing,
                             time: UInt64(Date().timeIntervalSince1970), operations: ops, rosterHash: roster.hash)
        let bundle = try w.forge("alice", epoch: 0, commits: [genesis]) { _, sender in roster.sorted.filter { $0.id != sender } }
        #expect(try w.rk("bob", ["receive", bundle]).code == 0)

        let refused = try w.rk("bob", ["room", "fingerprint", room.hex, "--confirm", "123"])
        #expect(refused.code != 0, "\(refused)")
        let hint = try #require(refused.stderr.split(separator: "\n").first { $0.hasPrefix("roomkey: hint:") }.map(String.init), "\(refused)")
        #expect(hint.contains("'roomkey room fingerprint \(room.hex)'"), "\(hint)")
        #expect(!hint.contains("\\u{"), "\(hint)")
        // The command it suggests works as written.
        #expect(try w.rk("bob", ["room", "fingerprint", room.hex]).code == 0)

        // A plain name stays a name.
        #expect(ShellWord.reference("team", id: room.hex) == "team")
        #expect(ShellWord.reference(name, id: room.hex) == room.hex)
        #expect(ShellWord.reference("back\\slash", id: room.hex) == room.hex)
    }
}
