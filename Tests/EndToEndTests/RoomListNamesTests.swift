import Testing
@testable import roomkey

/// `room list` names a room's members on version 1 cards on one line, however many there are.
@Suite struct RoomListNamesTests {
    typealias List = RoomKeyCommand.RoomCommand.List

    @Test(arguments: [0, 1, 4, 5])
    func upToTheLimitEveryNameIsShown(count: Int) {
        let names = (0..<count).map { "m\($0)" }
        #expect(List.someNames(names) == names.map { "\"\($0)\"" }.joined(separator: ", "))
    }

    @Test(arguments: [6, 50_000])
    func beyondItTheRestAreCounted(count: Int) {
        let names = (0..<count).map { "m\($0)" }
        #expect(List.someNames(names) == "\"m0\", \"m1\", \"m2\", \"m3\", \"m4\" and \(count - 5) more (see 'roomkey room show')")
    }

    /// A name that holds ", " reads as one name, not two (left from the review of untrusted text).
    @Test func aNameHoldingACommaReadsAsOne() {
        #expect(List.someNames(["bob, carol", "dave"]) == "\"bob, carol\", \"dave\"")
        #expect(RoomKeyCommand.parserLines("a\n   or: b\nc\n  - d") == "a or: b\nc - d")
    }
}
