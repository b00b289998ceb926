import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A member with push access puts noise at the next epoch's path that names an idle admin, with X-Wing stanzas that
/// open to no one (a review): the admin making a change took it for a commit it could not open and stayed staged for
/// good, while the same noise of sealed-box stanzas was replaced at once. A stanza to the X-Wing key the roster holds
/// for this keyring, which every sender seals to, proves the noise as a sealed box does.
@Suite struct GitPostQuantumNoiseTests {
    /// Noise naming `sender` at `epoch` of `state`'s room: a version 2 bundle whose X-Wing stanzas, one to every other
    /// member, are random bytes (they open for no one), then random bytes for the payload.
    static func noise(naming sender: IdentityID, epoch: UInt64, of state: RoomState) throws -> [UInt8] {
        let random = try SystemRandom()
        var bytes = Bundle.header(roomID: state.roomID, epoch: epoch, sender: sender, version: 2)
        let others = state.roster.sortedIDs.filter { $0 != sender }
        let count = UInt32(others.count)
        bytes += [UInt8(count >> 24), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
        for id in others {
            bytes += id.bytes + [Bundle.StanzaKind.xwing.rawValue]
            bytes += try random.bytes(Bundle.stanzaLengthV2XWing - IdentityID.length - 1)
        }
        bytes += try random.bytes(200)
        #expect((try? Bundle.parse(bytes)) != nil, "the noise parses as a bundle")
        return bytes
    }

    @Test func noiseOfXWingStanzasNamingAnIdleAdminIsReplaced() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        for p in ["bob", "carol"] { try w.sync(p) }
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let state = try w.keyring("carol").room("team").state
        let bob = try #require(state.roster.sorted.first { $0.card.handle == "bob" })
        #expect(bob.admin)
        // carol, a plain member with push access, names bob (who does nothing) as the sender of the next epoch.
        try w.tamper(["rooms/\(room)/log/\(state.epoch + 1).roomkey": try Self.noise(naming: bob.id, epoch: state.epoch + 1, of: state)])
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 0, "alice's add is published over the noise: \(add)")
        #expect(try w.state("alice").0 == Int(state.epoch) + 1)
        for p in ["bob", "carol", "dave"] { try w.sync(p) }
        for p in ["bob", "carol", "dave"] { #expect(try w.state(p) == w.state("alice"), "\(p)") }
    }

    /// Under `--require-pq` a change staged for a remote is checked as a direct one is: an add of a member on a version
    /// 1 card is refused and nothing is staged (it was reported refused, yet stayed staged, blocked every later change of
    /// the room, and was published with a later one once the member upgraded; a review).
    @Test func aRefusedAddUnderRequirePQStagesNothing() throws {
        let w = try GitWorld(["alice", "bob", "carol", "dave"], classical: ["dave"])
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--require-pq"]).code == 0)
        try w.addRemote(["alice", "bob", "carol", "dave"])
        try w.sync("alice")
        for p in ["bob", "carol"] { try w.sync(p) }
        let add = try w.rk("alice", ["room", "add", "team", "dave"])
        #expect(add.code == 6 && add.stderr.contains("dave"), "\(add)")
        let staged = try w.rk("alice", ["sync", "--json"])
        #expect(staged.code == 0, "nothing is staged: \(staged)")
        // A later change of the room goes through.
        let remove = try w.rk("alice", ["room", "remove", "team", "carol"])
        #expect(remove.code == 0, "\(remove)")
        try w.sync("bob")
        let roster = try #require(try w.show("bob")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(Set(roster) == ["alice", "bob"], "\(roster)")
        let audit = try w.rk("alice", ["audit"]).stdout
        #expect(!audit.contains("add staged"), "\(audit)")
    }

    /// A change staged before `--require-pq` was set, which the setting now refuses, stays staged and is reported for
    /// its room alone: it stopped every sync of the remote, so a new room on it was never published (a review).
    @Test func aStagedChangeRefusedLaterStopsOnlyItsRoom() throws {
        let w = try GitWorld(["alice", "bob", "carol", "dave"], classical: ["dave"])
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.addRemote(["alice", "bob", "carol", "dave"])
        try w.sync("alice")
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "--no-sync"]).code == 0)
        #expect(try w.rk("alice", ["room", "set", "team", "--require-pq"]).code == 0)
        let sync = try w.rk("alice", ["sync", "--json"])
        #expect(sync.code == 5, "\(sync)")
        let refused = try #require(try sync.json()["refused"] as? [[String: Any]], "\(sync)")
        #expect(refused.map { $0["name"] as? String } == ["team"], "\(sync)")
        #expect(sync.stderr.contains("the change staged for room team is refused now"), "\(sync.stderr)")
        // Another room on the remote is published all the same.
        #expect(try w.rk("alice", ["room", "create", "other", "--member", "carol"]).code == 0)
        let again = try w.rk("alice", ["sync"])
        #expect(again.code == 5 && !again.stderr.contains("room other is refused"), "\(again)")
        try w.sync("carol")
        #expect(try w.show("carol", room: "other")["epoch"] as? Int == 0)
    }
}
