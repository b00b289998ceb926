import Testing
@testable import RoomKeyCore

/// Names that differ only by blanks read the same in a listing, so they look alike (found by a hostile review: `bob`
/// and `bob ` got no mark against each other).
struct LookalikeBlankTests {
    @Test(arguments: ["bob ", " bob", "bob\u{3000}", "bob\u{2800}", "bob\u{00A0}", "\u{2003}bob\t"])
    func blanksAtEitherEndLookLikeNone(_ name: String) {
        #expect(Lookalikes.skeleton(name) == Lookalikes.skeleton("bob"))
    }

    @Test func aRunOfBlanksLooksLikeOne() {
        #expect(Lookalikes.skeleton("bob  smith") == Lookalikes.skeleton("bob smith"))
        #expect(Lookalikes.skeleton("bob\u{3000}smith") == Lookalikes.skeleton("bob smith"))
        #expect(Lookalikes.skeleton("x\u{2800}y") == Lookalikes.skeleton("x y"))
    }

    @Test func aBlankStillSeparates() {
        #expect(Lookalikes.skeleton("bo b") != Lookalikes.skeleton("bob"))
        #expect(Lookalikes.skeleton("   ") == "")
    }
}
