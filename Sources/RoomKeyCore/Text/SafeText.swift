/// Untrusted text made safe for a terminal: the one function every file name, handle, contact or room name and
/// error detail quoting input passes through before it becomes a line of text output. JSON output is not escaped.
public enum SafeText {
    /// True for a scalar a terminal would act on or hide rather than show: C0 and C1 controls, DEL, format characters
    /// (bidi controls U+202A–U+202E and U+2066–U+2069, zero-width characters, U+FEFF), other default-ignorable code points,
    /// and the line and paragraph separators.
    public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value < 0x20 || scalar.value == 0x7F }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return properties.isDefaultIgnorableCodePoint
        }
    }

    /// `text` with every hidden scalar written as `\u{hex}` (lowercase hex, as Swift writes it) and every backslash
    /// doubled, so the output is unambiguous: `\u{1b}` always stands for one ESC, never for the six characters a file
    /// name may spell; other text unchanged.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isHidden($0) || $0 == "\\" }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                out.append(contentsOf: "\\\\".unicodeScalars)
            } else if isHidden(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Names for one line of text, each in double quotes and joined by ", ", a double quote inside a name doubled (as
    /// CSV writes it): a name that holds ", " reads as one name, not as two, and so does one that holds `", "` (a
    /// review: the handle `ev"e, "bob` read as the two names "ev"e" and "bob"). (The line's writer escapes it, as any line.)
    public static func quotedList(_ names: some Sequence<String>) -> String {
        names.map { name in
            // By scalar: a quote carrying a combining mark is one character, and must still be doubled.
            var quoted = String.UnicodeScalarView("\"".unicodeScalars)
            for scalar in name.unicodeScalars {
                quoted.append(scalar)
                if scalar == "\"" { quoted.append(scalar) }
            }
            quoted.append("\"")
            return String(quoted)
        }.joined(separator: ", ")
    }

    /// True when `text` may be written raw to a terminal as a message: no control character but tab and line feed,
    /// a carriage return only right before a line feed (so no line can be overdrawn), and no bidi embedding, override
    /// or isolate (so no line is shown reordered).
    public static func isTerminalSafe(_ text: String) -> Bool {
        var scalars = text.unicodeScalars.makeIterator()
        var pendingReturn = false
        while let s = scalars.next() {
            if pendingReturn, s != "\n" { return false }
            pendingReturn = s == "\r"
            if s == "\r" || s == "\n" || s == "\t" { continue }
            if s.properties.generalCategory == .control || isBidiControl(s) { return false }
        }
        return !pendingReturn
    }

    /// True for the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
    public static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}
