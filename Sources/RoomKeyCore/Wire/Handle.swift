import Foundation

/// Rules for a handle: UTF-8 in Unicode NFC, 1 to 128 bytes, no control characters.
public enum Handle {
    /// Longest handle in bytes.
    public static let maxBytes = 128

    /// Checks `handle` and returns it unchanged, or throws naming the broken rule.
    @discardableResult
    public static func validate(_ handle: String, what: String = "handle") throws(WireError) -> String {
        let bytes = handle.utf8.count
        if bytes == 0 { throw .invalid(what: what, reason: "empty") }
        if bytes > maxBytes { throw .oversized(what: what, limit: maxBytes, found: bytes) }
        // Printable ASCII is always NFC and free of control characters: the common case needs no Unicode tables.
        if handle.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return handle }
        if let control = handle.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            // Named, as the other refused characters are (a review: a tab was only "a control character").
            throw .invalid(what: what, reason: "contains a control character \(codePoint(control))")
        }
        if !handle.utf8.elementsEqual(handle.precomposedStringWithCanonicalMapping.utf8) {
            throw .invalid(what: what, reason: "not in Unicode NFC")
        }
        return handle
    }

    /// Checks a name a person chooses or imports (`init --name`, a card in `contact add`, `--as`, a new room's name):
    /// `validate`, and nothing that hides or fakes what the name reads as. Refused: default-ignorable and format
    /// characters (bidi controls, zero-width characters, U+FEFF), white space other than U+0020, a space at either end,
    /// and private-use or unassigned code points. Names already stored or received are only held to `validate`.
    @discardableResult
    public static func validateNew(_ name: String, what: String = "handle") throws(WireError) -> String {
        try validate(name, what: what)
        if name.hasPrefix(" ") || name.hasSuffix(" ") { throw .invalid(what: what, reason: "starts or ends with a space") }
        if readsAsID(name) { throw .invalid(what: what, reason: "is 32 hex digits, which read as an identity or room id") }
        for scalar in name.unicodeScalars where scalar.value >= 0x7F {
            if let kind = refusedKind(scalar) {
                throw .invalid(what: what, reason: "contains \(kind) \(codePoint(scalar))")
            }
        }
        return name
    }

    /// True for exactly 32 hex digits (either case): the form of an identity or room id, which commands take wherever
    /// they take a name. A contact, room or own handle of that form could name someone else's id (`offboard ID`
    /// would find the contact named so, not the person with the id), so `validateNew` refuses it.
    public static func readsAsID(_ name: String) -> Bool {
        name.utf8.count == 32 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Why `validateNew` refuses `scalar`, or nil when it is allowed.
    static func refusedKind(_ scalar: Unicode.Scalar) -> String? {
        let properties = scalar.properties
        if SafeText.isBidiControl(scalar) { return "a bidi control" }
        switch properties.generalCategory {
        case .format: return "an invisible format character"
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return "a space other than U+0020"
        case .privateUse: return "a private-use character"
        case .unassigned: return "an unassigned code point"
        default: break
        }
        if properties.isDefaultIgnorableCodePoint { return "an invisible character" }
        if properties.isWhitespace { return "a space other than U+0020" }
        return nil
    }

    /// `scalar` as Unicode writes a code point: `U+` and four hex digits at least (U+0009, U+202E).
    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Decodes UTF-8 bytes strictly (no replacement characters) and validates the result.
    public static func decode(_ bytes: [UInt8], what: String = "handle") throws(WireError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalid(what: what, reason: "not UTF-8") }
        return try validate(s, what: what)
    }
}
