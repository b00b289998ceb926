import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Receiving as PROTOCOL §5.4 says, where an independent reader of it found roomkey saying otherwise (review rev37a).
@Suite struct ReceiveSpecCLITests {
    /// The results of a `receive --json` run.
    static func results(_ r: Run) throws -> [[String: Any]] {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require(doc["results"] as? [[String: Any]])
    }

    /// Step 4: the sender's card is a contact's or a member's in any roster held here. bob is in carol's room but no
    /// contact of hers; a bundle for another room that names him and is signed by another key is rejected (it was
    /// pending, "not kept", as if his card were unknown).
    @Test func aForgedBundleFromAMemberWhoIsNoContactIsRejected() throws {
        let w = try HostileMemberTests.world()
        let carol = try w.keyring("carol")
        let bobCard = try #require(try carol.room("team").state.roster.sorted.first { $0.card.handle == "bob" }?.card)
        #expect(try carol.read { db in try carol.fetchContact(db, id: bobCard.id) } == nil)
        let bob = try w.keyring("bob").identity()
        let side = RoomID.random(using: try SystemRandom())
        let ops: [RoomKeyCore.Operation] = [.create(name: "side", creator: bobCard), .add(try carol.identityCard())]
        let roster = try RoomState.apply(ops, to: Roster(), author: bob.id, genesis: true)
        let genesis = Commit(roomID: side, epoch: 0, previousHead: Commit.genesisHead, signer: bob.signing,
                             time: HostileMemberTests.clock - 60, operations: ops, rosterHash: roster.hash)
        let forged = try HostileMemberTests.seal(w, signer: "dave", claiming: bob.id, room: side, epoch: 0, commits: [genesis],
                                                 to: [try carol.identityCard()], name: "forged-side")
        let before = try w.snapshot("carol")
        let r = try w.rk("carol", ["receive", "--json", forged])
        #expect(r.code == 2, "\(r.stderr)")
        #expect(try Self.results(r).first?["status"] as? String == "rejected")
        #expect(r.stderr.contains("signature"), "\(r.stderr)")
        #expect(try w.snapshot("carol") == before)
    }

    /// "Every result reports the header's room id and epoch": also a bundle that is malformed after a whole header.
    @Test func aMalformedBundleWithAWholeHeaderReportsItsRoomAndEpoch() throws {
        let w = try HostileMemberTests.world()
        let state = try w.keyring("carol").room("team").state
        let header = Bundle.header(roomID: state.roomID, epoch: 7, sender: try w.keyring("alice").identityCard().id)
        let path = w.s.path("cut.roomkey")
        // A header, then a stanza count that the file cannot hold.
        try Data(header + [0, 0, 0, 9] + [UInt8](repeating: 1, count: 40)).write(to: URL(fileURLWithPath: path))
        let r = try w.rk("carol", ["receive", "--json", path])
        #expect(r.code == 65, "\(r.stderr)")
        let result = try #require(try Self.results(r).first)
        #expect(result["status"] as? String == "malformed")
        #expect(result["room_id"] as? String == state.roomID.hex)
        #expect(result["epoch"] as? Int == 7)
    }
}
