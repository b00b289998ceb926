import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A folder given to `receive` or `decrypt` stands for its regular files: a FIFO, a device or a link to one is never
/// opened, a file larger than any bundle is ignored, and one bad file named on the command line fails alone (a hostile
/// review: a FIFO hung the run, a link to /dev/zero read 256 MiB, a large stray file ended it with nothing applied).
@Suite struct SpecialInputCLITests {
    /// Makes a FIFO at `path` and, until `stop` is called, hands any reader that opens it an end of file at once, so a
    /// build that opens it does not hang (it sees an empty file).
    final class Fifo: @unchecked Sendable {
        let path: String
        private let done = Mutex(false)

        init(_ path: String) throws {
            self.path = path
            #expect(mkfifo(path, 0o600) == 0)
            Thread.detachNewThread { [self] in
                while !done.withLock({ $0 }) {
                    let fd = open(path, O_WRONLY | O_NONBLOCK)
                    if fd >= 0 { close(fd) }
                    usleep(20_000)
                }
            }
        }

        func stop() { done.withLock { $0 = true } }
    }

    /// A sparse file of `size` bytes (nothing is written to disk).
    static func sparse(_ path: String, size: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(size)) == 0)
        close(fd)
    }

    static let tooLarge = 300 * 1024 * 1024

    @Test func aFoldersSpecialAndHugeEntriesAreIgnoredUnread() throws {
        let w = try RoomWorld()
        let create = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"])
        let bundle = try #require(try create.json()["bundle"] as? String)
        let fifo = try Fifo(w.shared + "/a-fifo")
        defer { fifo.stop() }
        #expect(symlink("/dev/zero", w.shared + "/b-zero") == 0)
        try Self.sparse(w.shared + "/c-video.mkv", size: Self.tooLarge)

        let r = try w.rk("bob", ["receive", w.shared])
        r.expect(exit: 0, stderr: "")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(3)) == [
            "ignored  \(w.shared)/a-fifo: not a regular file (a FIFO, socket, device or a link to one)",
            "ignored  \(w.shared)/b-zero: not a regular file (a FIFO, socket, device or a link to one)",
            "ignored  \(w.shared)/c-video.mkv: larger than 268435456 bytes, which no bundle is",
        ], "\(r)")
        #expect(r.stdout.contains("applied  \(bundle)"), "\(r)")
        #expect(lines.last == "summary: 1 applied, 3 ignored", "\(r)")
    }

    @Test func oneHugeFileNamedOnTheCommandLineFailsAlone() throws {
        let w = try RoomWorld()
        let create = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"])
        let bundle = try #require(try create.json()["bundle"] as? String)
        let huge = w.s.path("huge.bin")
        try Self.sparse(huge, size: Self.tooLarge)

        let r = try w.rk("bob", ["receive", huge, bundle])
        #expect(r.code == 65, "\(r)")
        #expect(r.stdout.contains("malformed  \(huge): input is invalid: larger than 268435456 bytes, which no bundle is"), "\(r)")
        #expect(r.stdout.contains("applied  \(bundle)"), "the good bundle is still applied: \(r)")
        #expect(try w.show("bob")["epoch"] as? Int == 0)

        let json = try w.rk("carol", ["receive", huge, "--json"])
        #expect(json.code == 65, "\(json)")
        let results = try #require(try json.json()["results"] as? [[String: Any]], "\(json)")
        #expect(results.map { $0["status"] as? String } == ["malformed"])
        #expect(results.first?["path"] as? String == huge)
    }

    @Test func batchDecryptOfAFolderSkipsAFifo() throws {
        let w = try RoomWorld()
        let create = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"])
        let bundle = try #require(try create.json()["bundle"] as? String)
        #expect(try w.rk("bob", ["receive", bundle, "-q"]).code == 0)
        let inbox = w.s.path("inbox")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        #expect(try w.rk("alice", ["encrypt", "team", "-o", inbox + "/hello.msg"], stdin: Data("hello\n".utf8)).code == 0)
        let fifo = try Fifo(inbox + "/pipe.msg")
        defer { fifo.stop() }
        let out = w.s.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        let r = try w.rk("bob", ["decrypt", inbox, "-o", out])
        #expect(r.code == 0, "\(r)")
        #expect(try String(contentsOfFile: out + "/hello", encoding: .utf8) == "hello\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/pipe"), "\(r)")
    }
}
