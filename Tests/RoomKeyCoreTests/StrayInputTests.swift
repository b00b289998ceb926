import Testing
@testable import RoomKeyCore

/// Which files found in a bundle folder are no roomkey input at all, and why (issue 12, finding 4).
@Suite struct StrayInputTests {
    @Test(arguments: [
        ([UInt8](), "empty file"),
        (Array("hello\n".utf8), "not a roomkey file"),
        (Array("roomkey-card-v1:AAAA".utf8), "an identity card, not a bundle (add it with 'roomkey contact add')"),
        (RoomMessage.magic + [0, 0], "a room message, not a bundle (read it with 'roomkey decrypt')"),
        (Array("roomkey-message-v1:AAAA".utf8), "a room message, not a bundle (read it with 'roomkey decrypt')"),
    ])
    func strayContentHasAReason(bytes: [UInt8], reason: String) {
        #expect(StrayInput.reason(bytes) == reason)
    }

    /// Anything that starts like a bundle or a leave request is an input: it is checked, and a damaged one is malformed.
    @Test func bundlesAndLeaveRequestsAreInputsEvenWhenDamaged() {
        #expect(StrayInput.reason(Bundle.magic) == nil)
        #expect(StrayInput.reason(Bundle.magicV2 + [1, 2, 3]) == nil)
        #expect(StrayInput.reason(Array(Bundle.magic.prefix(3))) == nil)
        #expect(StrayInput.reason(LeaveRequest.magic) == nil)
    }

    @Test func partialWritesAreKnownByName() {
        #expect(StrayInput.isPartialWrite(fileName: ".roomkey-tmp-0a1b2c"))
        #expect(!StrayInput.isPartialWrite(fileName: "20261202-0001.roomkey"))
        #expect(!StrayInput.isPartialWrite(fileName: ".DS_Store"))
    }
}
