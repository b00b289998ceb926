import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Names that the stricter rules for new names refuse still arrive in commits from other admins (and sit in keyrings
/// made before the rules): they load, and text output shows their invisible characters escaped.
@Suite struct LegacyNamesCLITests {
    @Test func aMemberWithAnInvisibleHandleLoadsAndIsShownEscaped() throws {
        let w = try RoomWorld.team(["bob"])
        let alice = try w.keyring("alice")
        let state = try alice.room("team").state
        let me = try alice.identity()
        let hidden = try IdentityCard(handle: "bob\u{202e}\u{200b}", signer: try SigningKeyPair.generate(),
                                      sealingKey: try SealingKeyPair.generate().publicKey, created: 1_790_000_000)
        let roster = try RoomState.apply([.add(hidden)], to: state.roster, author: me.id, genesis: false)
        let commit = Commit(roomID: state.roomID, epoch: state.epoch + 1, previousHead: state.head, signer: me.signing,
                            time: UInt64(Date().timeIntervalSince1970), operations: [.add(hidden)], rosterHash: roster.hash)
        let bundle = try w.forge("alice", epoch: state.epoch + 1, commits: [commit]) { _, sender in
            roster.sorted.filter { $0.id != sender }
        }
        let received = try w.rk("bob", ["receive", bundle])
        #expect(received.code == 0, "\(received)")

        let show = try w.rk("bob", ["room", "show", "team"])
        #expect(show.code == 0, "\(show)")
        let line = show.stdout.split(separator: "\n").first { $0.hasPrefix("  \(hidden.id.hex)") }.map(String.init) ?? ""
        #expect(line.contains(#"  bob\u{202e}\u{200b}"#), "\(show)")
        #expect(!show.stdout.contains("\u{202e}") && !show.stdout.contains("\u{200b}"))
        let members = try #require(try w.show("bob")["members"] as? [[String: Any]])
        #expect(members.contains { ($0["handle"] as? String)?.utf8.elementsEqual("bob\u{202e}\u{200b}".utf8) == true })
    }
}
