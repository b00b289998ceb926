import Foundation
import Testing
@testable import RoomKey

/// A batch `decrypt` killed at any instant leaves each message written and used up, or not used up: the plaintexts
/// are written (and synced) before the transaction that uses their keys up commits. A batch killed after its commit,
/// before its outputs were written, lost every message of it with no trace (a crash review).
@Suite struct BatchDecryptKilledCLITests {
    /// alice's messages m1.msg, m2.msg, m3.msg in a fresh folder, and a folder for the plaintexts.
    static func messages(_ w: RoomWorld) throws -> (paths: [String], out: String) {
        let dir = w.s.path("in-\(UUID().uuidString)"), out = w.s.path("out-\(UUID().uuidString)")
        for folder in [dir, out] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let paths = try (1...3).map { i in
            let path = dir + "/m\(i).msg"
            try Data(try w.bytes(try w.send("alice", Array("plaintext \(i)".utf8)))).write(to: URL(fileURLWithPath: path))
            return path
        }
        return (paths, out)
    }

    @Test func killedAfterItsCommitTheOutputsAreThere() throws {
        let w = try RoomWorld.team(["bob"])
        let (paths, out) = try Self.messages(w)
        let killed = try w.s.roomkey("bob", ["decrypt", "-o", out] + paths, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": CrashPoint.afterAnyCommit])
        #expect(killed.code == SIGKILL, "\(killed)")
        for i in 1...3 { #expect(try w.bytes(out + "/m\(i)") == Array("plaintext \(i)".utf8), "m\(i)") }
        let again = try w.run("bob", ["decrypt", "--force", "-o", out] + paths)
        #expect(again.code == 6 && again.stdout.contains("replayed"), "used up once: \(again)")
    }

    @Test func killedBeforeItsCommitTheMessagesAreNotUsedUp() throws {
        let w = try RoomWorld.team(["bob"])
        let (paths, out) = try Self.messages(w)
        let killed = try w.s.roomkey("bob", ["decrypt", "-o", out] + paths, env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": CrashPoint.beforeCommit])
        #expect(killed.code == SIGKILL, "\(killed)")
        let again = try w.run("bob", ["decrypt", "--force", "-o", out] + paths)
        #expect(again.code == 0, "\(again)")
        for i in 1...3 { #expect(try w.bytes(out + "/m\(i)") == Array("plaintext \(i)".utf8), "m\(i)") }
    }

    /// An output that cannot be written fails alone and leaves its message to be decrypted again.
    @Test func anOutputThatCannotBeWrittenLeavesItsMessage() throws {
        let w = try RoomWorld.team(["bob"])
        let (paths, out) = try Self.messages(w)
        // m2's output name is taken by a folder: its write fails after the checks, the others go on.
        try FileManager.default.createDirectory(atPath: out + "/m2", withIntermediateDirectories: true)
        let r = try w.run("bob", ["decrypt", "--force", "-o", out] + paths)
        #expect(r.code == 1 && r.stderr.contains("the message was not used up"), "\(r)")
        try FileManager.default.removeItem(atPath: out + "/m2")
        let again = try w.run("bob", ["decrypt", "-o", out, paths[1]])
        #expect(again.code == 0, "\(again)")
        #expect(try w.bytes(out + "/m2") == Array("plaintext 2".utf8))
    }
}
