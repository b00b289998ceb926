import Foundation
import Testing
@testable import roomkey

/// Outbox file names carry the time as a date formatter writes its whole second, computed without one, and the
/// microseconds within that second.
@Suite struct OutboxStampTests {
    /// The time part of an outbox name: the formatter given the whole second (so it has nothing to round), then the
    /// microseconds cut.
    static func reference(_ time: TimeInterval, _ formatter: DateFormatter) -> String {
        let micros = Int64((time * 1_000_000).rounded(.down))
        let second = TimeInterval(micros / 1_000_000)
        return "\(formatter.string(from: Date(timeIntervalSince1970: second)))Z-\(String(format: "%06d", micros % 1_000_000))"
    }

    static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        return formatter
    }

    /// Every 37 days from 1970 to past 2400 (every leap-year rule), a different second and fraction each time.
    @Test func fourHundredThirtyYearsMatchTheFormatter() {
        let formatter = Self.formatter()
        var day: Int64 = 0, step: Int64 = 0, checked = 0
        while day * 86_400 < 13_600_000_000 {
            let fraction = Double((step * 7_919) % 1_000_000) / 1_000_000
            let time = Double(day * 86_400 + (step * 3_607) % 86_400) + fraction
            #expect(Outbox.stamp(time) == Self.reference(time, formatter), "\(time)")
            day += 37
            step += 1
            checked += 1
        }
        #expect(checked > 4_000)
    }

    /// Leap days, the days around them, year and century ends, and fractions up to the last microsecond of a second
    /// (which must not carry into the next second, day or year, as a formatter's rounding to the millisecond did).
    @Test func edgeInstantsMatchTheFormatter() {
        let formatter = Self.formatter()
        let seconds: [Int64] = [0, 59, 86_399, 951_782_399, 951_782_400, 951_868_800, 946_684_799, 946_684_800,
                                1_709_164_800, 1_709_251_199, 1_735_689_599, 4_107_456_000, 4_107_542_400, 4_102_444_799,
                                7_258_118_399, 7_258_118_400, 13_569_465_599]
        let fractions = [0, 0.000001, 0.0004, 0.0005, 0.0006, 0.25, 0.5, 0.9994, 0.99949, 0.9995, 0.99951, 0.999999]
        for second in seconds {
            for fraction in fractions {
                let time = Double(second) + fraction
                #expect(Outbox.stamp(time) == Self.reference(time, formatter), "\(time)")
            }
        }
        #expect(Outbox.stamp(1_764_685_060.25) == "20251202T141740Z-250000")
        #expect(Outbox.stamp(951_782_400.5) == "20000229T000000Z-500000")
        #expect(Outbox.stamp(946_684_799.9996) == "19991231T235959Z-999600")
        // Before 1970 the second is still the one the time falls in, and the microseconds count up from it.
        #expect(Outbox.stamp(-0.5) == "19691231T235959Z-500000")
        #expect(Outbox.stamp(-1) == "19691231T235959Z-000000")
        #expect(Outbox.stamp(-86_400.25) == "19691230T235959Z-750000")
    }

    /// The calendar fields hold before 1970 too (back to 1600; the formatter turns Julian before 1582).
    @Test func calendarFieldsMatchTheFormatterBefore1970() {
        let formatter = Self.formatter()
        for seconds: Int64 in [-1, -86_400, -86_401, -2_203_891_200, -5_364_662_400, -11_676_096_001] {
            let t = CommandClock.utc(seconds)
            let text = String(format: "%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day, t.hour, t.minute, t.second)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))), "\(seconds)")
        }
    }
}
