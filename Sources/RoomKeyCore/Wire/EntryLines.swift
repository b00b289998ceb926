import Foundation
/// Line lists (card lists, members files): one entry a line, blank lines and `#` comments skipped. Their entry limit
/// is checked by counting lines, which parses nothing, before the first entry is parsed.
public enum EntryLines {
    /// How many lines of `text` hold an entry.
    ///
    /// Lines end at LF, CR, CR LF, VT, FF, NEL, U+2028 and U+2029 (Swift's `isNewline`); a line holds an entry when its
    /// first character that is not a space or tab is neither a line end nor `#`.
    public static func count(in text: String) -> Int {
        var count = 0
        var atLineStart = true
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029:
                atLineStart = true
            case 0x20, 0x09:
                continue
            default:
                if atLineStart {
                    atLineStart = false
                    if scalar != "#" { count += 1 }
                }
            }
        }
        return count
    }

    /// The entries of `text`, in order: each line (ended as `count` says) with surrounding whitespace trimmed, without
    /// empty lines and lines starting with `#`. A text of ASCII only (a members file of 50,000 names) is split on its
    /// bytes; any other text goes through Swift's `Character`s, which gives the same for ASCII.
    public static func entries(in text: String) -> [String] {
        var text = text
        let fast: [String]? = text.withUTF8 { bytes in
            var out: [String] = []
            var start = 0
            for i in 0...bytes.count {
                let byte: UInt8 = i < bytes.count ? bytes[i] : 0x0A
                if byte >= 0x80 { return nil }
                guard byte >= 0x0A, byte <= 0x0D else { continue }
                var (lo, hi) = (start, i)
                while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
                while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
                if lo < hi, bytes[lo] != UInt8(ascii: "#") {
                    out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[lo..<hi]), as: UTF8.self))
                }
                start = i + 1
            }
            return out
        }
        if let fast { return fast }
        var out: [String] = []
        for line in TextLines(text, endsAt: \.isNewline) {
            let entry = line.trimmingCharacters(in: .whitespaces)
            if !entry.isEmpty, !entry.hasPrefix("#") { out.append(entry) }
        }
        return out
    }

    /// Throws when `text` holds more than `limit` entries (`what` names the input in the error).
    public static func requireAtMost(_ limit: Int, in text: String, what: String) throws(WireError) {
        let found = count(in: text)
        if found > limit { throw WireError.oversized(what: what, limit: limit, found: found) }
    }
}

/// The lines of a text, one at a time, as `split(omittingEmptySubsequences: false, whereSeparator: endsAt)` gives them
/// but without an array of them: a list of millions of blank or comment lines costs nothing per skipped line (a
/// review: 64 MiB of line feeds given to `contact add` or `apply` took 2.2 GB).
public struct TextLines: Sequence, IteratorProtocol {
    private let text: String
    private let endsAt: (Character) -> Bool
    private var position: String.Index
    private var done = false

    /// The lines of `text`, each ended by a character `endsAt` accepts (which no line holds).
    public init(_ text: String, endsAt: @escaping (Character) -> Bool) {
        self.text = text
        self.endsAt = endsAt
        self.position = text.startIndex
    }

    /// The next line; after the last line end, one more (possibly empty) line, as `split` gives.
    public mutating func next() -> Substring? {
        if done { return nil }
        guard let end = text[position...].firstIndex(where: endsAt) else {
            done = true
            return text[position...]
        }
        defer { position = text.index(after: end) }
        return text[position..<end]
    }
}
