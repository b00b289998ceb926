import Foundation
import Testing

/// A command started with standard output (or input) closed, as `>&-` or a daemon leaves it: the keyring's lock file is
/// the first file roomkey opens, and took descriptor 1, so `decrypt` wrote the plaintext into it, exited 0 and used the
/// message up; `room rotate -o -` wrote its bundle there and marked it delivered (a hostile review).
@Suite struct ClosedStreamCLITests {
    /// Runs roomkey as `who` of `w` with the descriptors `redirections` closes (`>&-`, `<&-`).
    func runClosed(_ w: RoomWorld, _ who: String, _ args: [String], close redirections: String) throws -> (code: Int32, err: String) {
        let r = try w.s.roomkey(who, args, env: ["ROOMKEY_OUTBOX": w.shared], shell: ("", redirections))
        return (r.code, r.stderr)
    }

    /// The bytes of `who`'s lock file (empty or missing before and after any command).
    func lockBytes(_ w: RoomWorld, _ who: String) -> Data {
        FileManager.default.contents(atPath: w.s.keyring(who) + ".lock") ?? Data()
    }

    @Test func aPlaintextForAClosedStandardOutputIsNotWrittenAnywhereAndTheMessageStaysUnused() throws {
        let w = try RoomWorld.team(["bob"])
        let message = try w.send("alice", Array("TOP SECRET PLAINTEXT".utf8))
        let r = try runClosed(w, "bob", ["decrypt", message], close: ">&-")
        #expect(r.code == 1, "\(r)")
        #expect(r.err.contains("cannot write standard output"), "\(r.err)")
        #expect(lockBytes(w, "bob").isEmpty)
        let (again, plain) = try w.receiveMessage("bob", message)
        #expect(again.code == 0, "\(again)")
        #expect(plain == Array("TOP SECRET PLAINTEXT".utf8))
    }

    @Test func aBundleForAClosedStandardOutputIsNotWrittenIntoTheLockFile() throws {
        let w = try RoomWorld.team(["bob"])
        let r = try runClosed(w, "alice", ["room", "rotate", "team", "-o", "-"], close: ">&-")
        #expect(r.code == 1, "\(r)")
        #expect(lockBytes(w, "alice").isEmpty)
    }

    @Test func aClosedStandardInputReadsNothingFromAKeyringFile() throws {
        let w = try RoomWorld.team(["bob"])
        let r = try runClosed(w, "alice", ["encrypt", "team", "-o", w.s.path("m.bin")], close: "<&-")
        #expect(r.code != 0, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: w.s.path("m.bin")))
    }
}
