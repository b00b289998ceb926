// Fuzzes the stored roster (Roster.parse, RosterView, RosterRow): rows come from disk. Any input gives a value or a
// thrown error; an accepted roster's encoding parses back to the same roster, its hash made piece by piece is the hash
// of that encoding, and an accepted replay row is exactly its own encoding.
import RoomKeyCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    if case let .replay(row)? = try? RosterRow.kind(of: bytes) {
        require(row.encoded == bytes && row.commits >= 1 && row.commits <= RosterReplay.maxCommits, "replay row is not canonical")
    }
    if let view = try? RosterView(bytes) {
        for id in view.ids { _ = try? view.card(of: id) }
    }
    guard let roster = try? Roster.parse(bytes) else { return 0 }
    require((try? Roster.parse(roster.encoded)) == roster, "roster does not round-trip")
    let kept = roster.hash
    roster.forgetEncoding()
    require(roster.hash == kept, "the roster hash made piece by piece is not the storage form's")
    return 0
}
