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
        #expect(next.stderr.contains("a FIFO or device named by an interrupted command, was not written there"), "\(next.stderr)")
        // It is settled: the command after says nothing more about it.
        let third = try w.rk("alice", ["room", "rotate", "team"])
        #expect(third.code == 0 && !third.stderr.contains("FIFO"), "\(third)")
        // Settled without a file: a flush writes nothing and says so.
        let flushed = try w.rk("alice", ["outbox", "flush", "--json"])
        let written = try flushed.json()["written"] as? [String]
        #expect(flushed.code == 0 && written?.isEmpty == true, "\(flushed)")
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
        // A bundle for it is refused before the change is made (it was made, and its bundle then dropped).
        try s.person("bob")
        let card = try s.roomkey("bob", ["id", "export"]).stdout
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        #expect(try s.roomkey("alice", ["room", "create", "team", "--member", "bob", "-o", s.path("g.roomkey")]).code == 0)
        let before = try s.roomkey("alice", ["room", "show", "team", "--json"]).stdout
        let bundle = try PtySession(["room", "rotate", "team", "-o", "/dev/tty"], env: env)
        let (bundleCode, bundleText) = try bundle.finish()
        #expect(bundleCode == 64, "\(bundleText)")
        #expect(try s.roomkey("alice", ["room", "show", "team", "--json"]).stdout == before)
        let entries = try s.roomkey("alice", ["outbox", "list", "--json"]).json()["entries"] as? [[String: Any]] ?? []
        #expect(entries.allSatisfy { $0["delivered"] != nil }, "\(entries)")
        // Text is written to it as to standard output.
        let export = try PtySession(["id", "export", "-o", "/dev/tty"], env: env)
        let (cardCode, cardText) = try export.finish()
        #expect(cardCode == 0, "\(cardText)")
        #expect(cardText.contains("roomkey-card-v"), "\(cardText)")
    }

    /// A team where alice sent bob `text`: the message's path, and a new FIFO to decrypt it into.
    static func messageAndFifo(_ w: RoomWorld, _ text: String) throws -> (message: String, fifo: String) {
        let message = w.s.path("m.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data(text.utf8)).code == 0)
        let fifo = w.s.path("plain.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        return (message, fifo)
    }

    /// Starts roomkey as bob with `args` in the background; its standard output is the pipe returned.
    static func startAsBob(_ w: RoomWorld, _ args: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
            .merging(["ROOMKEY_KEYRING": w.s.keyring("bob"), "XDG_STATE_HOME": w.s.path("state"), "ROOMKEY_OUTBOX": w.shared]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        return (p, out)
    }

    /// A decrypt whose output waits for its reader (a FIFO here; a pager on a pipe alike) holds no write lock: other
    /// commands go on meanwhile, and once it is read the message is read (found by a hostile review: every command
    /// that wrote failed after 30 s with "database is locked").
    @Test func aDecryptWaitingForItsReaderBlocksNoOtherCommand() throws {
        let w = try RoomWorld.team(["bob"])
        let (message, fifo) = try Self.messageAndFifo(w, "hello bob")
        let (decrypt, _) = try Self.startAsBob(w, ["decrypt", message, "-o", fifo])
        defer { if decrypt.isRunning { decrypt.terminate() } }
        usleep(500_000)
        #expect(decrypt.isRunning, "decrypt waits for a reader of its output")
        let started = Date()
        let other = try w.rk("bob", ["room", "rotate", "team"])
        #expect(other.code == 0, "\(other)")
        #expect(Date().timeIntervalSince(started) < 20, "another command waited for the decrypt's lock")
        let reader = FileHandle(forReadingAtPath: fifo)
        let plaintext = reader?.readDataToEndOfFile() ?? Data()
        decrypt.waitUntilExit()
        #expect(decrypt.terminationStatus == 0)
        #expect(String(decoding: plaintext, as: UTF8.self) == "hello bob")
        // Read once: the key of that message is gone.
        let again = try w.rk("bob", ["decrypt", message])
        #expect(again.code == 6, "\(again)")
    }

    /// Two decrypts of one message take turns: while the first waits for its reader, the second waits too, and then
    /// finds the message read (found by a review: both handed the plaintext out).
    @Test func aSecondDecryptOfTheSameMessageWaitsAndFindsItRead() throws {
        let w = try RoomWorld.team(["bob"])
        let (message, fifo) = try Self.messageAndFifo(w, "once")
        let (first, _) = try Self.startAsBob(w, ["decrypt", message, "-o", fifo])
        defer { if first.isRunning { first.terminate() } }
        usleep(500_000)
        let (second, secondOut) = try Self.startAsBob(w, ["decrypt", message])
        defer { if second.isRunning { second.terminate() } }
        usleep(500_000)
        #expect(second.isRunning, "the second decrypt waits for the first")
        let plaintext = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(String(decoding: plaintext, as: UTF8.self) == "once")
        #expect(first.terminationStatus == 0)
        #expect(second.terminationStatus == 6)
        #expect(secondOut.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }

    /// Turns are per keyring: a decrypt of another keyring in the same folder does not wait (found by a review: the
    /// turn was the folder's).
    @Test func aDecryptOfAnotherKeyringInTheSameFolderDoesNotWait() throws {
        let w = try RoomWorld.team(["bob"])
        let message = w.s.path("m.msg")
        #expect(try w.rk("alice", ["encrypt", "team", "-o", message], stdin: Data("for bob".utf8)).code == 0)
        // A second copy of bob's keyring in the same folder, holding the turn of the first one while it waits.
        let folder = (w.s.keyring("bob") as NSString).deletingLastPathComponent
        let copy = folder + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: w.s.keyring("bob"), toPath: copy)
        let fd = open(w.s.keyring("bob") + ".decrypt.lock", O_CREAT | O_RDWR, 0o600)
        #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        let started = Date()
        let other = try w.s.roomkey("bob", ["decrypt", message], env: ["ROOMKEY_KEYRING": copy, "ROOMKEY_OUTBOX": w.shared])
        #expect(other.code == 0, "\(other)")
        #expect(Date().timeIntervalSince(started) < 20)
    }
}
