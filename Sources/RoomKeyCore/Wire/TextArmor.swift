/// One-line text forms: a fixed, versioned prefix followed by unpadded base64url (RFC 4648 §5).
public enum TextArmor {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Encodes `bytes` as `prefix` + base64url without padding.
    public static func encode(_ bytes: [UInt8], prefix: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 4 / 3 + 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for s in [18, 12, 6, 0] { out.append(alphabet[Int(n >> UInt32(s) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            var n = UInt32(bytes[i]) << 16
            if rest == 2 { n |= UInt32(bytes[i + 1]) << 8 }
            for s in [18, 12, 6].prefix(rest + 1) { out.append(alphabet[Int(n >> UInt32(s) & 63)]) }
        }
        return prefix + String(decoding: out, as: UTF8.self)
    }

    /// Decodes a text form, requiring `prefix`, at most `maxBytes` decoded bytes and canonical base64url.
    public static func decode(_ text: String, prefix: String, what: String, maxBytes: Int) throws(WireError) -> [UInt8] {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.hasPrefix(prefix) else { throw .wrongPrefix(expected: prefix) }
        let body = Array(trimmed.utf8.dropFirst(prefix.utf8.count))
        let maxChars = (maxBytes * 4 + 2) / 3
        if body.count > maxChars { throw .oversized(what: what, limit: maxBytes, found: body.count * 3 / 4) }
        if body.count % 4 == 1 { throw .badEncoding(what: what) }
        var out = [UInt8]()
        out.reserveCapacity(body.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in body {
            let v = decodeTable[Int(c)]
            if v == 0xFF { throw .badEncoding(what: what) }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        // Canonical form: the unused low bits of the last character must be zero.
        if bits > 0 && acc & ((1 << UInt32(bits)) - 1) != 0 { throw .badEncoding(what: what) }
        return out
    }
}

extension String {
    /// The string without leading and trailing whitespace (including CR LF).
    package func trimmingWhitespace() -> String {
        guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[start...end])
    }
}
