/// Errors from the strict binary and text readers; all are malformed input (exit 65).
public enum WireError: Error, Equatable, Sendable {
    /// The input ended before `what` could be read.
    case truncated(what: String, needed: Int, available: Int)
    /// Bytes were left after the structure ended.
    case trailingBytes(what: String, count: Int)
    /// A version byte roomkey does not know.
    case unknownVersion(what: String, expected: UInt8, found: UInt8)
    /// A length or count exceeded its bound.
    case oversized(what: String, limit: Int, found: Int)
    /// A field held a value that is not allowed.
    case invalid(what: String, reason: String)
    /// Text input did not start with the expected prefix.
    case wrongPrefix(expected: String)
    /// Text input was not valid base64url.
    case badEncoding(what: String)
}

extension WireError: RoomKeyError {
    /// Always malformed input.
    public var category: ErrorCategory { .malformed }

    /// A one-line description naming the field.
    public var message: String {
        switch self {
        case let .truncated(what, needed, available): "\(what) is truncated: needed \(needed) bytes, \(available) left"
        case let .trailingBytes(what, count): "\(what) has \(count) unexpected trailing bytes"
        case let .unknownVersion(what, expected, found): "\(what) has unknown version \(found) (this roomkey reads version \(expected))"
        case let .oversized(what, limit, found): "\(what) is too large: \(found) (limit \(limit))"
        case let .invalid(what, reason): "\(what) is invalid: \(reason)"
        case let .wrongPrefix(expected): "input does not start with \"\(expected)\""
        case let .badEncoding(what): "\(what) is not valid base64url text"
        }
    }
}
