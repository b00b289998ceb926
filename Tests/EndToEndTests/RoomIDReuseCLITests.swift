import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A contact who saw a room's id (in any bundle header or remote path) sends a new member a genesis of its own under
/// that id first. The real room's bundle can then not be applied there; it is refused saying why (it said "commit author
/// … is not a member of the room", found by a hostile review), and the keyring is left as it was.
@Suite struct RoomIDReuseCLITests {
    /// alice's room "team" of bob; mallory, a contact of dave's, sends dave a genesis of her own under its id first, and
    /// dave takes it; then alice adds dave. Returns the real room's id, mallory's card and alice's bundle adding dave.
    static func lured(_ w: RoomWorld) throws -> (room: RoomID, mallory: IdentityCard, bundle: String) {
        let mallory = try w.s.person("mallory")
        #expect(try w.rk("dave", ["contact", "add", "-"], stdin: Data(mallory.utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let real = try w.keyring("alice").room("team").state
        let malloryKeyring = try w.keyring("mallory")
        let malloryCard = try malloryKeyring.identityCard(), daveCard = try w.keyring("dave").identityCard()
        let ops: [RoomKeyCore.Operation] = [.create(name: "team", creator: malloryCard), .add(daveCard)]
        let roster = try RoomState.apply(ops, to: Roster(), author: malloryCard.id, genesis: true)
        let genesis = Commit(roomID: real.roomID, epoch: 0, previousHead: Commit.genesisHead, signer: try malloryKeyring.identity().signing,
                             time: UInt64(Date().timeIntervalSince1970), operations: ops, rosterHash: roster.hash)
        let lure = try HostileMemberTests.seal(w, signer: "mallory", room: real.roomID, epoch: 0, commits: [genesis], to: [daveCard],
                                               name: "reused-id")
        #expect(try w.rk("dave", ["receive", lure, "-q"]).code == 0)
        let add = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        return (real.roomID, malloryCard, try #require(try add.json()["bundle"] as? String, "\(add)"))
    }

    @Test func anotherCreatorsGenesisForAHeldRoomIdIsRefusedSayingSo() throws {
        let w = try RoomWorld()
        let (_, malloryCard, bundle) = try Self.lured(w)
        let before = try Data(contentsOf: URL(fileURLWithPath: w.s.keyring("dave")))
        let r = try w.rk("dave", ["receive", bundle])
        #expect(r.code == 2, "\(r)")
        let aliceID = try w.keyring("alice").identityCard().id
        #expect(r.stderr.contains("\(bundle): it carries a genesis by \(aliceID) for a room whose genesis here is by \(malloryCard.id): one of them reused the other's room id"), "\(r)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.s.keyring("dave"))) == before)
    }
}
