import Foundation
import Testing
@testable import roomkey

/// The ISO 8601 times commands print are those of Foundation's formatter, computed without it.
@Suite struct CommandClockTests {
    @Test(arguments: [UInt64(0), 59, 86_399, 86_400, 951_782_399, 951_782_400, 951_868_800, 1_709_164_800, 4_107_542_400,
                      4_107_456_000, 1_798_761_599, 253_402_300_799, 253_402_300_800, 300_000_000_000, UInt64.max])
    func knownTimesMatchTheFormatter(seconds: UInt64) {
        #expect(CommandClock.iso8601(seconds) == CommandClock.formatted(seconds))
    }

    @Test func fourHundredYearsOfDaysMatchTheFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        // Every third day, a different second of the day each time, from 1970 to past 2370 (every leap-year rule).
        var seconds: UInt64 = 0
        var offset: UInt64 = 0
        while seconds < 12_700_000_000 {
            let time = seconds + offset
            #expect(CommandClock.iso8601(time) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(time))))
            seconds += 3 * 86_400
            offset = (offset + 7_919) % 86_400
        }
        #expect(CommandClock.iso8601(1_764_685_060) == "2025-12-02T14:17:40Z")
    }
}
