// Fuzzes ApplyScript(parsing:) (compiled in from Sources/RoomKey/Operations/ApplyScript.swift, which is pure): any
// text gives a script or ScriptError; an accepted script, written back line by line, parses to the same lines.
import RoomKeyCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: input(data, size), as: UTF8.self)
    guard let script = try? ApplyScript(parsing: text) else { return 0 }
    var out: [String] = []
    for line in script.lines {
        while out.count < line.number - 1 { out.append("") }
        // The flags are written back too (found by this target: a round trip that dropped `--if-missing` failed).
        let flag = line.ifNeeded ? [line.verb == .add ? "--if-missing" : "--if-present"] : []
        let admins = line.admins.map { ["--admins"] + $0 } ?? []
        out.append(([line.verb.rawValue, line.room] + flag + line.arguments + admins).joined(separator: " "))
    }
    let again = try? ApplyScript(parsing: out.joined(separator: "\n"))
    require(again == script, "script does not round-trip")
    return 0
}
