import Foundation
import Testing

/// Blank and comment lines cost nothing each: `contact add` and `apply` of a file of millions of them ran out of a
/// 600 MB address-space limit (a hostile-input review: 64 MiB of line feeds took 2.2 GB, as every line was first put in
/// an array of lines). Run under `ulimit -v`, so the test fails where the memory would be used.
@Suite struct BlankLinesMemoryCLITests {
    @Test func aFileOfSkippedLinesIsReadInLittleMemory() throws {
        let line = "\n"
        let s = try Sandbox()
        try s.person("alice")
        // 32 MiB of line feeds (under both inputs' 64 MiB limit): the array of lines alone was 32 bytes a line, 1 GiB.
        let file = s.path("blank.txt")
        let chunk = Data(String(repeating: line, count: (1 << 20) / line.utf8.count).utf8)
        FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        for _ in 0..<32 { handle.write(chunk) }
        try handle.close()
        let before = s.rawBytes(of: "alice")
        let add = try InputReviewCLITests.shell(s, "alice", "ulimit -v 600000 && exec \"$0\" contact add '\(file)'")
        #expect(add.code == 65 && add.stderr.split(separator: "\n").count == 1, "\(add.code): \(add.stderr.prefix(300))")
        #expect(s.rawBytes(of: "alice") == before)
        // A script of nothing but skipped lines is an empty script.
        let apply = try InputReviewCLITests.shell(s, "alice", "ulimit -v 600000 && exec \"$0\" apply '\(file)'")
        #expect(apply.code == 0, "\(apply.code): \(apply.stderr.prefix(300))")
    }
}
