import Foundation
import Testing
@testable import RoomKeyCore

/// Names people can trust (#11 finding 2): which new names are refused, which look alike, which mix scripts.
struct NameRulesTests {
    /// (what, name, accepted by `Handle.validateNew`).
    static let newNameCases: [(String, String, Bool)] = [
        ("ASCII", "alice", true),
        ("a space inside", "Alice Smith", true),
        ("accented, NFC", "jos\u{E9}", true),
        ("Japanese", "日本語", true),
        ("Cyrillic (a look-alike is a warning, not a rule)", "\u{430}lice", true),
        ("zero-width space", "bob\u{200B}", false),
        ("byte order mark", "\u{FEFF}bob", false),
        ("no-break space", "bob\u{A0}x", false),
        ("ideographic space", "bob\u{3000}x", false),
        ("right-to-left override", "b\u{202E}ob", false),
        ("a bidi isolate", "bob\u{2066}", false),
        ("zero-width joiner", "bo\u{200D}b", false),
        ("soft hyphen", "bo\u{AD}b", false),
        ("combining grapheme joiner", "bo\u{34F}b", false),
        ("a variation selector", "bob\u{FE0F}", false),
        ("private use", "bob\u{E000}", false),
        ("a leading space", " bob", false),
        ("a trailing space", "bob ", false),
        ("a control character (the wire rule)", "a\nb", false),
        ("not NFC (the wire rule)", "jose\u{301}", false),
        ("32 hex digits: reads as an id", "cc2859bddc03df4efea9c02a135d0598", false),
        ("32 hex digits in capitals", "CC2859BDDC03DF4EFEA9C02A135D0598", false),
        ("31 hex digits", "cc2859bddc03df4efea9c02a135d059", true),
        ("33 hex digits", "cc2859bddc03df4efea9c02a135d05981", true),
        ("32 characters, one not hex", "cc2859bddc03df4efea9c02a135d059g", true),
    ]

    @Test(arguments: newNameCases)
    func newNames(_ what: String, _ name: String, _ accepted: Bool) {
        #expect(((try? Handle.validateNew(name)) != nil) == accepted, "\(what)")
    }

    /// A handle already stored or received is held only to the wire rule, so keyrings and rooms that hold one still open.
    @Test func storedHandlesKeepTheWireRule() throws {
        for name in ["bob\u{200B}", "\u{FEFF}bob", "b\u{202E}ob", " bob"] { #expect(throws: Never.self) { try Handle.validate(name) } }
        #expect(throws: WireError.self) { try Handle.validateNew("bob\u{200B}") }
    }

    /// The refusal names the code point, never the raw character.
    @Test func refusalNamesTheCodePoint() {
        #expect(throws: WireError.invalid(what: "handle", reason: "contains an invisible format character U+200B")) {
            try Handle.validateNew("bob\u{200B}")
        }
        #expect(throws: WireError.invalid(what: "contact name", reason: "contains a bidi control U+202E")) {
            try Handle.validateNew("b\u{202E}ob", what: "contact name")
        }
    }

    /// (what, a, b, same skeleton).
    static let skeletonCases: [(String, String, String, Bool)] = [
        ("Cyrillic а", "\u{430}lice", "alice", true),
        ("Cyrillic о", "b\u{43E}b", "bob", true),
        ("zero-width space", "bob\u{200B}", "bob", true),
        ("byte order mark", "\u{FEFF}bob", "bob", true),
        ("capital I and small l", "Ian", "lan", true),
        ("rn and m", "rnary", "mary", true),
        ("Greek ο", "b\u{3BF}b", "bob", true),
        ("precomposed and decomposed", "jos\u{E9}", "jose\u{301}", true),
        ("the ASCII fast path agrees: 0 and O", "b0b", "bOb", true),
        ("the ASCII fast path agrees: | and l", "a|ice", "alice", true),
        ("% maps outside ASCII", "100%", "100\u{BA}/\u{2080}", true),
        ("fullwidth small b (the prototype table maps only the capitals)", "\u{FF42}ob", "bob", true),
        ("fullwidth capital B", "\u{FF22}ob", "Bob", true),
        ("modifier small b", "\u{1D47}ob", "bob", true),
        ("circled small b", "\u{24D1}ob", "bob", true),
        ("subscript o", "b\u{2092}b", "bob", true),
        ("the ligature fi", "\u{FB01}le", "file", true),
        ("fullwidth full stop", "bob\u{FF0E}smith", "bob.smith", true),
        ("fullwidth commercial at", "bob\u{FF20}home", "bob@home", true),
        ("long s keeps its prototype f", "\u{17F}red", "fred", true),
        ("different names", "alice", "alicia", false),
        ("case is not a look-alike", "bob", "Bob", false),
    ]

    @Test(arguments: skeletonCases)
    func skeletons(_ what: String, _ a: String, _ b: String, _ same: Bool) {
        #expect((Lookalikes.skeleton(a) == Lookalikes.skeleton(b)) == same, "\(what)")
    }

    /// The ASCII fast path gives what the general path gives, for every printable ASCII scalar it takes.
    @Test func asciiFastPathMatchesTheGeneralPath() {
        for value in UInt8(0x20)..<0x7F {
            let s = "a" + String(UnicodeScalar(value)) + "b"
            guard let fast = Lookalikes.asciiSkeleton(s) else { continue }
            #expect(Lookalikes.foldingBlanks(fast) == Lookalikes.generalSkeleton(s), "\(s)")
        }
    }

    /// (name, the scripts it mixes).
    static let scriptCases: [(String, [String])] = [
        ("alice", []),
        ("p\u{430}ypal", ["Cyrl", "Latn"]),
        ("\u{430}\u{43B}\u{438}\u{441}\u{430}", []),
        ("αβγ", []),
        ("bob 2", []),
        ("日本語テスト", []),
        ("한국語", []),
        ("abc日本", ["Hani", "Latn"]),
        ("jos\u{E9}", []),
    ]

    @Test(arguments: scriptCases)
    func mixedScripts(_ name: String, _ scripts: [String]) {
        #expect(Lookalikes.mixedScripts(name) == scripts, "\(name)")
    }

    /// Every entry of the generated tables is read: none is dropped by the parsers.
    @Test func generatedTablesParseWhole() {
        let entries = ConfusableData.prototypes.split(whereSeparator: \.isWhitespace)
        #expect(entries.count > 5000 && Lookalikes.prototypes.count == entries.count)
        #expect(Lookalikes.prototypes.values.allSatisfy { !$0.isEmpty })
        let tokens = ScriptData.ranges.split(whereSeparator: \.isWhitespace)
        #expect(Lookalikes.scriptRanges.count == tokens.filter { !$0.hasPrefix("@") }.count)
        #expect(zip(Lookalikes.scriptRanges, Lookalikes.scriptRanges.dropFirst()).allSatisfy { $0.range.upperBound < $1.range.lowerBound },
                "sorted and disjoint, as the binary search needs")
    }

    @Test func scriptsOfScalars() {
        #expect(Lookalikes.script(of: "a") == "Latn")
        #expect(Lookalikes.script(of: "\u{430}") == "Cyrl")
        #expect(Lookalikes.script(of: "\u{3B1}") == "Grek")
        #expect(Lookalikes.script(of: "1") == nil)
        #expect(Lookalikes.script(of: "\u{10FFFF}") == nil)
    }

    @Test func confusionsNameBoth() {
        let c = Lookalikes.confusions(of: "\u{430}lice", with: ["alice", "bob", "alice", "\u{430}lice"])
        #expect(c.looksLike == ["alice"], "each once, never the name itself")
        #expect(c.mixedScripts == ["Cyrl", "Latn"], "а is Cyrillic, lice Latin")
        #expect(c.descriptions == ["\"\u{430}lice\" looks like \"alice\"", "\"\u{430}lice\" mixes the scripts Cyrl, Latn"])
        #expect(Lookalikes.confusions(of: "carol", with: ["alice", "bob"]).isEmpty)
        // A quote inside a name is doubled: the name cannot spell a clause of its own (review s).
        let spelled = NameConfusions(name: "m\u{430}llory\" looks like \"alice", looksLike: ["mallory\" looks like \"alice"], mixedScripts: ["Cyrl", "Latn"])
        #expect(spelled.descriptions == ["\"m\u{430}llory\"\" looks like \"\"alice\" looks like \"mallory\"\" looks like \"\"alice\"",
                                         "\"m\u{430}llory\"\" looks like \"\"alice\" mixes the scripts Cyrl, Latn"])
    }

    @Test func indexIgnoresTheSameOwner() {
        var index = LookalikeIndex<Int>()
        index.add("alice", owner: 1)
        index.add("bob", owner: 2)
        #expect(index.confusions(of: "\u{430}lice", owner: 3).looksLike == ["alice"])
        #expect(index.confusions(of: "\u{430}lice", owner: 1).looksLike.isEmpty, "renaming oneself is no look-alike")
        #expect(index.confusions(of: "carol", owner: 3).isEmpty)
    }
}
