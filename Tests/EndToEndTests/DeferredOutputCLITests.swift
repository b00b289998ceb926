import Foundation
import Testing

/// A bundle whose `-o` command was killed after its commit is written by a later command only where nothing is now: a
/// file that appeared at that name, or a link planted there, is neither replaced nor followed (a hostile review: a
/// later `encrypt` wrote the bundle through a planted link into the link's target, and over a file without --force).
@Suite struct DeferredOutputCLITests {
    /// Runs alice's `room rotate -o NAME`, killed after its commit, then `plant` at NAME, then another command.
    func interrupted(_ plant: (RoomWorld, String) throws -> Void) throws -> (RoomWorld, String, Run) {
        let w = try RoomWorld.team(["bob"])
        let out = w.s.path("rotated.roomkey")
        let killed = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", out],
                                     env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": "after-commit"])
        #expect(killed.code == SIGKILL, "\(killed)")
        #expect(!FileManager.default.fileExists(atPath: out))
        try plant(w, out)
        return (w, out, try w.rk("alice", ["outbox", "flush"]))
    }

    @Test func aLinkPlantedAtTheNameIsNotFollowed() throws {
        var victim = ""
        let (w, out, next) = try interrupted { w, out in
            victim = w.s.path("victim.txt")
            try Data("mine\n".utf8).write(to: URL(fileURLWithPath: victim))
            try FileManager.default.createSymbolicLink(atPath: out, withDestinationPath: victim)
        }
        #expect(next.code == 0, "\(next)")
        #expect(next.stderr.contains("named by an interrupted command, was not written there: something else is there now"), "\(next.stderr)")
        #expect((try? String(contentsOfFile: victim, encoding: .utf8)) == "mine\n", "\(next)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: out)) == victim)
        withExtendedLifetime(w) {}
    }

    @Test func aFileThatAppearedAtTheNameIsNotReplaced() throws {
        let (w, out, next) = try interrupted { _, out in try Data("mine\n".utf8).write(to: URL(fileURLWithPath: out)) }
        #expect(next.code == 0 && next.stderr.contains("something else is there now"), "\(next)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "mine\n")
        // The bundle is not lost: it is written into the outbox folder instead, named in the warning, and applies.
        let line = try #require(next.stderr.split(separator: "\n").first { $0.contains("written to ") && $0.hasSuffix(" instead") })
        let path = String(line[line.range(of: "written to ")!.upperBound...].dropLast(" instead".count))
        #expect(path.hasPrefix(w.shared + "/"), "\(next.stderr)")
        let received = try w.rk("bob", ["receive", path, "--json"])
        #expect(received.code == 0 && received.stdout.contains("\"applied\""), "bob applied alice's new sender key: \(received)")
    }

    @Test func aFreeNameGetsTheBundle() throws {
        let (w, out, next) = try interrupted { _, _ in }
        #expect(next.code == 0, "\(next)")
        #expect(try w.rk("bob", ["receive", out]).code == 0)
    }

    /// A bundle for the standard output of a command killed after its commit cannot go there any more: it is written
    /// into the outbox folder instead (it was marked delivered with no file, and alice then encrypted under a sender key
    /// no one had; a crash review).
    @Test func aBundleForStandardOutputGoesToTheOutboxFolder() throws {
        let w = try RoomWorld.team(["bob"])
        let killed = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", "-"],
                                     env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": "after-commit"])
        #expect(killed.code == SIGKILL, "\(killed)")
        let message = w.s.path("hello.msg")
        let sent = try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data("hello".utf8))
        #expect(sent.code == 0 && sent.stderr.contains("standard output of an interrupted command") && sent.stderr.contains("instead"), "\(sent)")
        try w.exchange(["bob"])
        let read = try w.rk("bob", ["decrypt", message])
        #expect(read.code == 0 && read.stdout == "hello", "\(read)")
    }
}
