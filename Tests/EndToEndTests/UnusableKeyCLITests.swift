import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A member's "upgrade" card with an X-Wing key nothing can be sealed to is refused at `contact add`, so the admin's
/// next distribution still goes out (found by an independent review: the card was stored, and every later seal to
/// that member failed with exit 1, freezing the room until the member was removed).
@Suite struct UnusableKeyCLITests {
    @Test func anUpgradeCardWithAnUnusableXWingKeyIsRefused() throws {
        let w = try HostileMemberTests.world()
        let bob = try w.keyring("bob").identity()
        var xwing = try XWingKeyPair.generate().publicKey.bytes
        xwing[0] = 0xFF
        xwing[1] |= 0x0F
        let upgrade = try IdentityCard(handle: "bob", signer: bob.signing, sealingKey: bob.card.sealingKey,
                                       xwingKey: try XWingPublicKey(bytes: xwing), created: bob.card.created + 60)
        let path = w.s.path("bob-upgrade.card")
        try Data((upgrade.text + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let before = try w.snapshot("alice")
        let added = try w.rk("alice", ["contact", "add", path])
        #expect(added.code == 65, "\(added)")
        #expect(added.stderr.contains("unusable public key: the ML-KEM-768 half of the X-Wing key"), "\(added.stderr)")
        #expect(try w.snapshot("alice") == before)
        let rotated = try w.rk("alice", ["room", "rotate", "team"])
        #expect(rotated.code == 0, "\(rotated)")
    }
}
