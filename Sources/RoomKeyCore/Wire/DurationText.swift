/// Durations as people type them: one or more `NUMBER UNIT` groups, unit `s`, `m`, `h`, `d` or `w` (`72h`, `30m`,
/// `7d`, `3600s`, `1h30m`).
public enum DurationText {
    /// The largest duration accepted (100 years), so sums never overflow.
    public static let maxSeconds: UInt64 = 100 * 365 * 86_400
    private static let units: [Character: UInt64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// Parses a duration into seconds.
    public static func parse(_ text: String) throws(DurationError) -> UInt64 {
        var total: UInt64 = 0
        var number: UInt64? = nil
        var groups = 0
        for c in text {
            if let digit = c.wholeNumberValue, c.isASCII {
                let (times, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(UInt64(digit))
                guard !o1, !o2, plus <= maxSeconds else { throw .invalid(text) }
                number = plus
            } else if let unit = units[c], let n = number {
                let (part, o1) = n.multipliedReportingOverflow(by: unit)
                let (sum, o2) = total.addingReportingOverflow(part)
                guard !o1, !o2, sum <= maxSeconds else { throw .invalid(text) }
                total = sum
                number = nil
                groups += 1
            } else {
                throw .invalid(text)
            }
        }
        guard number == nil, groups > 0 else { throw .invalid(text) }
        return total
    }

    /// An exact form in one unit: days from a week up, else hours, minutes or seconds (`7d`, `72h`, `90m`, `45s`).
    public static func format(_ seconds: UInt64) -> String {
        if seconds >= 604_800, seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        for (unit, size) in [("h", UInt64(3_600)), ("m", 60)] where seconds > 0 && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}

/// A duration that cannot be read.
public enum DurationError: Error, Equatable, Sendable, RoomKeyError {
    /// Not a duration.
    case invalid(String)

    /// Always a usage error.
    public var category: ErrorCategory { .usage }
    /// A one-line description.
    public var message: String {
        switch self {
        case let .invalid(text): "\"\(text)\" is not a duration (at most 100 years)"
        }
    }
    /// How to write one.
    public var hint: String? { "write a duration like 72h, 30m, 7d or 3600s" }
}
