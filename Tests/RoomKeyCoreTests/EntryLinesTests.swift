import Testing
@testable import RoomKeyCore

/// Counting the entries of a line list before any of them is parsed.
@Suite struct EntryLinesTests {
    static let cases: [(String, Int)] = [
        ("", 0),
        ("a", 1),
        ("a\nb\n", 2),
        ("a\r\nb\r\n\r\n", 2),
        ("# comment\n  # indented comment\n\t\n   \nx", 1),
        ("a#not a comment\n#\n", 1),
        ("a\u{2028}b\u{2029}c\u{85}d\u{0B}e\u{0C}f\rg", 7),
        ("  \t card  \n", 1),
    ]

    @Test(arguments: cases) func countsEntryLines(text: String, expected: Int) {
        #expect(EntryLines.count(in: text) == expected)
    }

    @Test func refusesMoreThanTheLimitNamingBoth() throws {
        let text = String(repeating: "not a card\n", count: 11)
        #expect(throws: Never.self) { try EntryLines.requireAtMost(11, in: text, what: "card list") }
        #expect(throws: WireError.oversized(what: "card list", limit: 10, found: 11)) {
            try EntryLines.requireAtMost(10, in: text, what: "card list")
        }
    }

    /// The card list is counted before its first card is parsed: an oversized list of garbage says "too large",
    /// not "line 1".
    @Test func anOversizedCardListIsRefusedBeforeAnyCardIsParsed() {
        let text = String(repeating: "garbage\n", count: IdentityCard.maxCardsPerInput + 1)
        #expect(throws: WireError.oversized(what: "card list", limit: IdentityCard.maxCardsPerInput,
                                            found: IdentityCard.maxCardsPerInput + 1)) {
            _ = try IdentityCard.verifiedCards(in: text)
        }
    }
}
