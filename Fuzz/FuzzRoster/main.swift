// Fuzzes the stored roster (Roster.parse, RosterView): rows come from disk. Any input gives a value or a thrown error;
// an accepted roster's encoding parses back to the same roster.
import RoomKeyCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    if let view = try? RosterView(bytes) {
        for id in view.ids { _ = try? view.card(of: id) }
    }
    guard let roster = try? Roster.parse(bytes) else { return 0 }
    require((try? Roster.parse(roster.encoded)) == roster, "roster does not round-trip")
    _ = roster.hash
    return 0
}
