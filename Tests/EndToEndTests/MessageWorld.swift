import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Room messages on top of `RoomWorld`: runs with an optional injected clock, messages kept outside the shared
/// bundle folder.
extension RoomWorld {
    /// Runs roomkey as `who`, with the shared outbox and, if given, `ROOMKEY_TEST_NOW`.
    func run(_ who: String, _ args: [String], stdin: Data? = nil, now: UInt64? = nil) throws -> Run {
        var env = ["ROOMKEY_OUTBOX": shared]
        if let now { env["ROOMKEY_TEST_NOW"] = String(now) }
        return try s.roomkey(who, args, stdin: stdin, env: env)
    }

    /// A room `team` made by alice with `members`, after everyone in it received everything.
    static func team(_ members: [String] = ["bob", "carol", "dave"], now: UInt64? = nil) throws -> RoomWorld {
        let w = try RoomWorld()
        let create = try w.run("alice", ["room", "create", "team"] + members.flatMap { ["--member", $0] }, now: now)
        #expect(create.code == 0, "\(create)")
        try w.exchange(["alice"] + members, now: now)
        return w
    }

    /// Everyone in `who` receives every bundle, shuffled, until no one writes anything new.
    func exchange(_ who: [String], now: UInt64?) throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let before = try bundles().count
            for p in who.shuffled(using: &rng) {
                let r = try run(p, ["receive"] + (try bundles()).shuffled(using: &rng), now: now)
                #expect(r.code == 0, "receive as \(p): \(r)")
            }
            if try bundles().count == before { return }
        }
    }

    /// `who` encrypts `plaintext` for `room` into a new file (armored with `armor`) and returns its path.
    func send(_ who: String, _ plaintext: [UInt8], room: String = "team", armor: Bool = false, now: UInt64? = nil,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = s.path("msg-\(who)-\(UUID().uuidString)" + (armor ? ".txt" : ".bin"))
        let r = try run(who, ["encrypt", room, "-o", path] + (armor ? ["--armor"] : []), stdin: Data(plaintext), now: now)
        #expect(r.code == 0, "encrypt as \(who): \(r)", sourceLocation: sourceLocation)
        return path
    }

    /// `who` decrypts the message at `path` into a file; returns the run and the plaintext written, if any.
    func receiveMessage(_ who: String, _ path: String, now: UInt64? = nil) throws -> (Run, [UInt8]?) {
        let out = s.path("plain-\(UUID().uuidString)")
        let r = try run(who, ["decrypt", path, "-o", out], now: now)
        let plain = FileManager.default.contents(atPath: out).map { [UInt8]($0) }
        return (r, plain)
    }

    /// The bytes of a file.
    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Writes bytes to a new file in the sandbox and returns its path.
    func file(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = s.path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
