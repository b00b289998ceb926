import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Outputs written in place (a FIFO, a device) never hang later commands and never put binary on a terminal (found by
/// a hostile review: a bundle for `-o FIFO` whose command was interrupted was read and written again by every later
/// command, which waited for ever for a reader; `-o /dev/tty` put a whole backup on the terminal).
@Suite struct InPlaceOutputCLITests {
    /// Reads and drops whatever a writer puts into the FIFO at `path`, until `stop`, so that no build waits on it.
    final class Drain: @unchecked Sendable {
        private let done = Mutex(false)
        init(_ path: String) {
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while !done.withLock({ $0 }) {
                    let fd = open(path, O_RDONLY | O_NONBLOCK)
                    if fd >= 0 {
                        for _ in 0..<5 { _ = read(fd, &buffer, buffer.count); usleep(2_000) }
                        close(fd)
                    }
                    usleep(5_000)
                }
            }
        }
        func stop() { done.withLock { $0 = true } }
    }

    @Test func aBundleForAFifoOfAnInterruptedCommandIsNotWrittenAgain() throws {
        let w = try RoomWorld.team(["bob"])
        let fifo = try SpecialInputCLITests.Fifo(w.s.path("bundle.fifo"))
        let drain = Drain(fifo.path)
        defer { fifo.stop(); drain.stop() }
        // Killed after its commit, before its bundle reached the FIFO.
        let killed = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", fifo.path],
                                     env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": "after-commit"])
        #expect(killed.code == SIGKILL, "\(killed)")
        let next = try w.rk("alice", ["room", "rotate", "team"])
        #expect(next.code == 0, "\(next)")
        #expect(next.stderr.contains("a FIFO or device named by an interrupted command, was not written again"), "\(next.stderr)")
        // It is settled: the command after says nothing more about it.
        let third = try w.rk("alice", ["room", "rotate", "team"])
        #expect(third.code == 0 && !third.stderr.contains("FIFO"), "\(third)")
        #expect(try w.rk("alice", ["outbox", "resend", "team"]).code == 0)
    }

    @Test func binaryOutputThroughATerminalPathIsRefused() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid"), "/usr/bin/setsid (util-linux) is needed")
        let s = try Sandbox()
        try s.person("alice")
        let env = ["ROOMKEY_KEYRING": s.keyring("alice"), "XDG_STATE_HOME": s.path("state")]
        let pty = try PtySession(["backup", "-o", "/dev/tty"], env: env)
        let (code, transcript) = try pty.finish()
        #expect(code == 64, "\(transcript)")
        #expect(transcript.contains("refusing to write binary output"), "\(transcript)")
        #expect(!transcript.contains("SQLite format 3"))
        // Text is written to it as to standard output.
        let card = try PtySession(["id", "export", "-o", "/dev/tty"], env: env)
        let (cardCode, cardText) = try card.finish()
        #expect(cardCode == 0, "\(cardText)")
        #expect(cardText.contains("roomkey-card-v"), "\(cardText)")
    }
}
