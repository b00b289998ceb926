// Fuzzes DurationText.parse: any text gives a value or DurationError; a value formats and parses back to itself.
import RoomKeyCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: input(data, size), as: UTF8.self)
    guard let seconds = try? DurationText.parse(text) else { return 0 }
    require(seconds <= DurationText.maxSeconds, "duration \(seconds) over the limit")
    let formatted = DurationText.format(seconds)
    require((try? DurationText.parse(formatted)) == seconds, "format(\(seconds)) = \(formatted) does not parse back")
    return 0
}
