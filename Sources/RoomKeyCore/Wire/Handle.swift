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
        if handle.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalid(what: what, reason: "contains a control character")
        }
        if !handle.utf8.elementsEqual(handle.precomposedStringWithCanonicalMapping.utf8) {
            throw .invalid(what: what, reason: "not in Unicode NFC")
        }
        return handle
    }

    /// Decodes UTF-8 bytes strictly (no replacement characters) and validates the result.
    public static func decode(_ bytes: [UInt8], what: String = "handle") throws(WireError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalid(what: what, reason: "not UTF-8") }
        return try validate(s, what: what)
    }
}
