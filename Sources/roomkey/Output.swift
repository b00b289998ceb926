import Foundation
import RoomKey
import RoomKeyCore

/// The one output contract: results on stdout (text or one JSON document), messages and errors on stderr.
/// Every line of text passes through `SafeText.escaped`, so untrusted text in it (file names, handles, names, input
/// quoted in errors) cannot move the cursor, recolour, retitle or reorder the terminal; JSON documents are exact.
struct Output {
    let json: Bool
    let quiet: Bool

    /// True once `-o -` wrote data to standard output: results then go to standard error so they do not mix with it.
    nonisolated(unsafe) static var standardOutputTaken = false

    /// Prints a result: the JSON document with `--json`, else the text lines.
    func result(_ document: some Encodable, text: () -> [String]) {
        let lines = json ? [Self.encode(document)] : text().map(SafeText.escaped)
        Self.printRaw(lines)
    }

    /// Prints what a command did (a confirmation, not data asked for): the JSON document with `--json`, else the
    /// text lines, which `-q` silences.
    func confirmation(_ document: some Encodable, text: () -> [String]) {
        if quiet && !json { return }
        result(document, text: text)
    }

    /// Prints lines made by roomkey itself that must reach the terminal unescaped (the colours of a QR code).
    func terminalArt(_ lines: [String]) {
        Self.printRaw(lines)
    }

    /// Prints lines to stdout, or to stderr once `-o -` took stdout.
    private static func printRaw(_ lines: [String]) {
        for line in lines {
            if standardOutputTaken { stderrRaw(line) } else { print(line) }
        }
    }

    /// Writes part of a result as it is produced (a long listing), with no line break added: on stdout, or on stderr
    /// once `-o -` took stdout. Text is escaped line by line with `SafeText.escaped`; JSON is written exact.
    func stream(_ chunk: String) {
        let text = json ? chunk : Self.escapedLines(chunk)
        if Self.standardOutputTaken { Self.writeStandardError(text) } else { print(text, terminator: "") }
    }

    /// `chunk` with each line (split at line feeds) passed through `SafeText.escaped`. Printable ASCII without a
    /// backslash is returned as it is (escaping changes none of it), other text is split on its UTF-8 bytes; a carriage
    /// return falls back to splitting on characters, where CR LF is one character and so not a line break.
    static func escapedLines(_ chunk: String) -> String {
        var plain = true, carriageReturn = false
        for byte in chunk.utf8 where byte != 0x0A && (byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\\")) {
            plain = false
            if byte == 0x0D { carriageReturn = true; break }
        }
        if plain { return chunk }
        if carriageReturn {
            return chunk.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escaped(String($0)) }.joined(separator: "\n")
        }
        return chunk.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { SafeText.escaped(String(Substring($0))) }.joined(separator: "\n")
    }

    /// A note for people on stderr (`roomkey: ...`), silenced by `-q` and by `--json`.
    func note(_ message: String) {
        guard !quiet, !json else { return }
        Self.stderr("roomkey: \(message)")
    }

    /// A warning on stderr; never silenced, because it reports something the user must act on.
    func warn(_ message: String, hint: String? = nil) {
        Self.stderr("roomkey: warning: \(message)")
        if let hint { Self.stderr("roomkey: hint: \(hint)") }
    }

    /// An error line on stderr for one part of a command that went on with the rest; the command's own document (text or
    /// JSON) reports that part too, so no error document is printed.
    func partFailed(_ message: String) {
        Self.stderr("roomkey: error: \(Self.oneLine(message, keepingLineFeeds: true))")
    }

    /// Reports an error in the documented format and returns its exit code.
    func report(_ error: any Error) -> Int32 {
        let (category, message, hint) = Self.describe(error)
        fail(kind: category.rawValue, message: message, hint: hint)
        return ExitStatus.code(for: category)
    }

    /// Prints an error line (and hint) to stderr, and the JSON error document with `--json`.
    func fail(kind: String, message: String, hint: String?) {
        let line = Self.oneLine(message, keepingLineFeeds: true)
        Self.stderr("roomkey: error: \(line)")
        if let hint { Self.stderr("roomkey: hint: \(hint)") }
        if json { Self.printRaw([Self.encode(ErrorDocument(error: .init(kind: kind, message: line)))]) }
    }

    static func describe(_ error: any Error) -> (ErrorCategory, String, String?) {
        if let e = error as? any RoomKeyError { return (e.category, e.message, e.hint) }
        if let e = error as? CocoaError, e.code == .fileReadNoSuchFile || e.code == .fileNoSuchFile {
            return (.notFound, "file not found: \(e.userInfo[NSFilePathErrorKey] as? String ?? "?")", nil)
        }
        return (.failure, String(describing: error), nil)
    }

    /// Lowercases the first letter of a sentence (a system message: "The file ..."), removes a final period and line
    /// breaks. A message that starts with a path or a name (its first word holds anything but letters, such as
    /// `Cards/X.card`) keeps its case: on a case-sensitive file system the lowercased path names another file.
    /// `keepingLineFeeds` keeps line feeds instead, for a line written with `stderr` (which escapes each as `\u{a}`, so
    /// a name holding one is shown as it is rather than as another name with a space) or into JSON (as `\n`).
    static func oneLine(_ message: String, keepingLineFeeds: Bool = false) -> String {
        var s = keepingLineFeeds ? message : message.replacingOccurrences(of: "\n", with: " ")
        if s.hasSuffix(".") { s.removeLast() }
        let word = s.prefix { $0 != " " }
        if let first = s.first, first.isUppercase, !(s.dropFirst().first?.isUppercase ?? false), word.allSatisfy(\.isLetter) {
            s = first.lowercased() + s.dropFirst()
        }
        return s
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(value) else { return "{}" }
        return jsonEscapingHidden(String(decoding: data, as: UTF8.self))
    }

    /// `json` with every hidden character (`SafeText.isHidden`: DEL, C1 controls, bidi and zero-width marks, line and
    /// paragraph separators) that the encoder left as it is written as a `\uXXXX` escape (a surrogate pair above
    /// U+FFFF): the same JSON value, but a terminal shown the document sees no control or reordering character from a
    /// name or file name someone else chose. These characters never occur outside strings in JSON.
    static func jsonEscapingHidden(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value >= 0x7F && SafeText.isHidden($0) }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            guard scalar.value >= 0x7F, SafeText.isHidden(scalar) else {
                out.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            }
        }
        return String(out)
    }

    /// Writes one line of text to stderr, escaped with `SafeText.escaped` and cut to `maxLineCharacters`.
    static func stderr(_ line: String) {
        stderrRaw(bounded(line))
    }

    /// The most characters (code points) of a line written to stderr (before escaping). An error, warning or hint that quotes input
    /// (a name read from a file, a list of thousands of rooms) stays a line a terminal shows; `--json` has it whole.
    static let maxLineCharacters = 4_096

    /// `line` escaped, its first `maxLineCharacters` characters (Unicode code points: one character drawn on screen can
    /// hold any number of combining marks) and a count of the rest when it is longer. The cut is made before escaping,
    /// so it never splits an escape (`\u{1b}`, a doubled backslash).
    static func bounded(_ line: String) -> String {
        let scalars = line.unicodeScalars
        guard line.utf8.count > maxLineCharacters, scalars.count > maxLineCharacters else { return SafeText.escaped(line) }
        let kept = String(String.UnicodeScalarView(scalars.prefix(maxLineCharacters)))
        let rest = scalars.count - maxLineCharacters
        return SafeText.escaped(kept) + " ... (\(rest) more \(rest == 1 ? "character" : "characters") not shown)"
    }

    /// Writes a line to stderr as it is: only for JSON and for roomkey's own terminal art.
    private static func stderrRaw(_ line: String) {
        writeStandardError(line + "\n")
    }

    /// Writes `text` to standard error with write(2); a failure (a full disk, a closed pipe) loses the text and nothing
    /// else. Foundation's `FileHandle.write(_:)` traps on a failed write: with standard error on a full disk, a command
    /// that could not print its error died of SIGILL instead of exiting with its code (found when a disk filled up).
    static func writeStandardError(_ text: String) {
        try? OutputPath.writeAll(2, Data(text.utf8), path: "standard error")
    }

    struct ErrorDocument: Encodable {
        struct Body: Encodable {
            let kind: String
            let message: String
        }
        let error: Body
    }
}
