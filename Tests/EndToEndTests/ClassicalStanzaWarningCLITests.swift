import Foundation
import Testing

/// A member on a version 2 identity whose copy of a bundle's key came in a version 1 stanza (its sender holds only its
/// version 1 card) is told so when it receives the bundle: whatever that sender sends it is open to an X25519 break,
/// and nothing said so (a post-quantum review).
@Suite struct ClassicalStanzaWarningCLITests {
    /// alice's room "team" with bob and carol, then carol upgraded: alice never gets her new card, so alice's next
    /// bundle reaches carol in a sealed box. Returns the world and the bundles written until then.
    static func upgradedCarol() throws -> (PostQuantumCLITests.Mixed, Set<String>) {
        let m = try PostQuantumCLITests.Mixed()
        let w = m.w
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "carol"])
        #expect(try w.rk("carol", ["id", "upgrade"]).code == 0)
        return (m, Set(try w.bundles()))
    }

    @Test func aSealedBoxToAPostQuantumIdentityIsReported() throws {
        let (m, had) = try Self.upgradedCarol()
        let w = m.w
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let rotation = try #require(try w.bundles().first { !had.contains($0) })
        let carol = try w.rk("carol", ["receive", rotation])
        #expect(carol.code == 0, "\(carol)")
        #expect(carol.stderr.contains("sealed this bundle's key to you with X25519 alone"), "\(carol.stderr)")
        // bob, whose version 2 card alice holds, is told nothing.
        let bob = try w.rk("bob", ["receive", rotation])
        #expect(bob.code == 0 && !bob.stderr.contains("X25519 alone"), "\(bob)")
    }

    /// The same for a commit's bundle, which makes the receiver send a key of its own: the warning was dropped when the
    /// result was rewritten to name that key's bundle (a review of room name warnings, which went the same way).
    @Test func aSealedBoxInACommitsBundleIsReportedToo() throws {
        let (m, had) = try Self.upgradedCarol()
        let w = m.w
        #expect(try w.rk("alice", ["room", "remove", "team", "bob"]).code == 0)
        let commit = try #require(try w.bundles().first { !had.contains($0) })
        let carol = try w.rk("carol", ["receive", commit])
        #expect(carol.code == 0, "\(carol)")
        #expect(carol.stderr.contains("sealed this bundle's key to you with X25519 alone"), "\(carol.stderr)")
    }
}
