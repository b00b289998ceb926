import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Names that are not UTF-8 (found by a hostile review: a bundle so named in a folder was skipped without a word, and
/// such a path on the command line was read, or written by -o, under another name).
@Suite struct NonUTF8NameCLITests {
    @Test func aFolderEntryWhoseNameIsNotUTF8IsReportedAsIgnored() throws {
        let w = try RoomWorld.team(["bob"])
        let folder = w.s.path("inbox")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // "add\xff.roomkey", made through the C API (a Swift string cannot hold the byte).
        let name: [CChar] = Array(folder.utf8CString.dropLast()) + Array("/add".utf8CString.dropLast()) + [CChar(bitPattern: 0xFF)]
            + Array(".roomkey".utf8CString)
        let fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        close(fd)
        let r = try w.rk("bob", ["receive", "--json", folder])
        #expect(r.code == 0, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.count == 1)
        #expect(results.first?["status"] as? String == "ignored")
        #expect((results.first?["reason"] as? String ?? "").contains("not valid UTF-8"), "\(results)")
    }

    @Test func anArgumentThatIsNotUTF8IsAUsageError() throws {
        let w = try RoomWorld.team(["bob"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$RK\" receive \"$(printf 'x\\377.roomkey')\""]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
            .merging(["RK": CLI.binary.path, "ROOMKEY_KEYRING": w.s.keyring("bob"), "XDG_STATE_HOME": w.s.path("state-bob")]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 64, "\(text)")
        #expect(text == "roomkey: error: argument 2 is not valid UTF-8; roomkey takes file names and text in UTF-8\n")
    }

    /// A batch `encrypt` of a folder fails such a file in its own result, and encrypts the others.
    @Test func aBatchFailsAFileWhoseNameIsNotUTF8() throws {
        let w = try RoomWorld.team(["bob"])
        let folder = w.s.path("notes")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: folder + "/a.txt"))
        let name: [CChar] = Array(folder.utf8CString.dropLast()) + Array("/b".utf8CString.dropLast()) + [CChar(bitPattern: 0xFF)]
            + Array(".txt".utf8CString)
        let fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        close(fd)
        // A second one whose name differs only in the bad byte: the two are still told apart (they read the same
        // with U+FFFD, and made the whole batch refused as two inputs for one output).
        var other = name
        other[other.count - 6] = CChar(bitPattern: 0xFE)
        let fd2 = open(other, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd2 >= 0)
        close(fd2)
        let r = try w.rk("alice", ["encrypt", "team", folder, "--suffix", ".msg", "--json"])
        #expect(r.code == 65, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect(results.filter { $0["status"] as? String == "ok" }.count == 1)
        #expect(Set(results.compactMap { $0["path"] as? String }).count == 3)
        #expect(results.contains { ($0["error"] as? String ?? "").contains("is not valid UTF-8") }, "\(results)")
        #expect(FileManager.default.fileExists(atPath: folder + "/a.txt.msg"))
    }
}
