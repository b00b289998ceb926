import Foundation
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

    /// The rule `entries` keeps, written the slow way: Swift's line ends, whitespace trimmed, no blanks or comments.
    static func entriesTheSlowWay(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    @Test(arguments: cases.map(\.0) + [
        "alice\nbob", " \t alice \t \r\n\r\n#bob\n carol#x\n", "\n\n\n", "a\u{0B}b\u{0C}c\rd",
        "caf\u{E9}\n bob \n", "\u{A0}alice\u{A0}\nbob\u{2003}", "a\u{85}b", "\u{1F600}\n#\u{1F600}\n",
    ]) func entriesAreTheTrimmedNonCommentLines(text: String) {
        #expect(EntryLines.entries(in: text) == Self.entriesTheSlowWay(text))
        #expect(EntryLines.entries(in: text).count == Self.entriesTheSlowWay(text).count)
    }

    @Test func entriesOfRandomASCIIMatchTheSlowWay() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", "#", " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "-", "."]
        for _ in 0..<300 {
            let text = String((0..<Int.random(in: 0..<60, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? "a" })
            #expect(EntryLines.entries(in: text) == Self.entriesTheSlowWay(text), "\(Array(text.utf8))")
        }
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

/// `TextLines` gives the lines `split(omittingEmptySubsequences: false, whereSeparator:)` gives, one at a time.
@Suite struct TextLinesTests {
    static let texts = ["", "a", "a\n", "\n", "\n\n", "a\nb", "a\r\nb\r\n", "a\rb\u{2028}c\u{85}d\u{0B}e", "é\u{301}\n#x\n  \n", "\r\n\r\n\n\r"]

    @Test(arguments: texts) func matchesSplit(_ text: String) {
        for endsAt in [{ (c: Character) in c.isNewline }, { (c: Character) in c == "\n" || c == "\r\n" || c == "\r" }] {
            let expected = text.split(omittingEmptySubsequences: false, whereSeparator: endsAt).map(String.init)
            #expect(Array(TextLines(text, endsAt: endsAt)).map(String.init) == expected, "\(text.debugDescription)")
        }
    }
}
