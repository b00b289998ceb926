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

    /// Throws when `text` holds more than `limit` entries (`what` names the input in the error).
    public static func requireAtMost(_ limit: Int, in text: String, what: String) throws(WireError) {
        let found = count(in: text)
        if found > limit { throw WireError.oversized(what: what, limit: limit, found: found) }
    }
}
