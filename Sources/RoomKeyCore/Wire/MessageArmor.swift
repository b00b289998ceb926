/// The text form of a room message, for mail and chat: `roomkey-message-v1:` followed by the base64url of the binary
/// message, broken into lines of at most 76 characters. Readers ignore whitespace anywhere after the prefix.
public enum MessageArmor {
    /// The prefix, which carries the armor version.
    public static let prefix = "roomkey-message-v1:"
    /// What every version of the prefix starts with.
    package static let family = "roomkey-message-v"
    /// Characters per line.
    public static let lineLength = 76
    /// The largest armored text accepted, in bytes (the largest message, base64url, line breaks, slack).
    public static let maxTextLength = prefix.utf8.count + (RoomMessage.maxLength * 4 + 2) / 3 * (lineLength + 2) / lineLength + 64

    /// The armored text of `message`, ending with a line break.
    public static func encode(_ message: [UInt8]) -> String {
        let text = Array(TextArmor.encode(message, prefix: prefix).utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.count + text.count / lineLength + 1)
        var start = 0
        while start < text.count {
            let end = min(start + lineLength, text.count)
            out += text[start..<end]
            out.append(0x0A)
            start = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// True when `input` looks like armored text (after leading whitespace it starts with `roomkey-message-v`).
    public static func isArmored(_ input: [UInt8]) -> Bool {
        let start = input.firstIndex { !isSpace($0) } ?? input.endIndex
        return input[start...].starts(with: Array(family.utf8))
    }

    /// Decodes armored text into the binary message (not yet parsed).
    public static func decode(_ input: [UInt8]) throws(WireError) -> [UInt8] {
        if input.count > maxTextLength { throw .oversized(what: "armored message", limit: maxTextLength, found: input.count) }
        let compact = input.filter { !isSpace($0) }
        let head = Array(prefix.utf8)
        guard compact.starts(with: head) else {
            let family = Array(Self.family.utf8)
            if compact.starts(with: family) {
                let digits = compact.dropFirst(family.count).prefix { $0 >= 0x30 && $0 <= 0x39 }
                let version = digits.prefix(4).reduce(0) { $0 * 10 + Int($1 - 0x30) }
                if !digits.isEmpty, version != 1 {
                    // A version past 255 (or of more than 3 digits) is not shown as 255: it is a wrong prefix, named.
                    guard digits.count <= 3, version <= 255 else { throw .wrongPrefix(expected: prefix) }
                    throw .unknownVersion(what: "armored message", expected: 1, found: UInt8(version))
                }
            }
            throw .wrongPrefix(expected: prefix)
        }
        return try TextArmor.decode(String(decoding: compact, as: UTF8.self), prefix: prefix, what: "armored message",
                                    maxBytes: RoomMessage.maxLength)
    }

    /// Reads a message from bytes that are either binary or armored.
    public static func read(_ input: [UInt8]) throws(WireError) -> RoomMessage {
        try RoomMessage.parse(isArmored(input) ? try decode(input) : input)
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
}
