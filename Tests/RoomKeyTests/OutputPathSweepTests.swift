import Foundation
@testable import RoomKey
import Testing

/// How output files clean up after killed runs: a temporary file no live writer holds is removed by the next write
/// into its folder, and a run writing many files into one folder (a batch) looks for such files there only once.
@Suite struct OutputPathSweepTests {
    /// A fresh folder, removed at the end of the test by the caller.
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rk-sweep-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// A temporary file as a killed run leaves it: the name a writer uses, nobody holding its lock.
    static func leftover(in folder: String, _ tag: String) throws -> String {
        let path = folder + "/.roomkey-tmp-" + tag
        try Data("half written".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    @Test func aSweepLooksInEachFolderOnceAndAWriteWithoutOneAlwaysLooks() throws {
        let (one, two) = (try Self.folder(), try Self.folder())
        defer { for f in [one, two] { try? FileManager.default.removeItem(atPath: f) } }
        let sweep = LeftoverSweep()
        let first = try Self.leftover(in: one, "0000000000000001")
        try OutputPath.write(Data("a".utf8), to: one + "/a", replace: false, durable: false, sweep: sweep)
        #expect(!FileManager.default.fileExists(atPath: first), "the first write of the run removes the leftover")
        // A file a run killed meanwhile stays until the next run: this run has looked in the folder already.
        let second = try Self.leftover(in: one, "0000000000000002")
        try OutputPath.write(Data("b".utf8), to: one + "/b", replace: false, durable: false, sweep: sweep)
        #expect(FileManager.default.fileExists(atPath: second))
        // Another folder is looked in at its own first write.
        let third = try Self.leftover(in: two, "0000000000000003")
        try OutputPath.write(Data("c".utf8), to: two + "/c", replace: false, durable: false, sweep: sweep)
        #expect(!FileManager.default.fileExists(atPath: third))
        // A write without a sweep (every single-file -o) looks each time.
        try OutputPath.write(Data("d".utf8), to: one + "/d", replace: false)
        #expect(!FileManager.default.fileExists(atPath: second))
        #expect(Self.names(one) == ["a", "b", "d"])
        #expect(Self.names(two) == ["c"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: one + "/b")) == Data("b".utf8))
    }

    @Test func aLiveWritersFileIsNeverTakenAndARefusedOutputLeavesNothing() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let live = dir + "/.roomkey-tmp-00000000000000ff"
        let fd = open(live, O_RDWR | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)
        try OutputPath.write(Data("x".utf8), to: dir + "/x", replace: false, durable: false, sweep: LeftoverSweep())
        #expect(FileManager.default.fileExists(atPath: live))
        // An output that exists is refused without replace, and the temporary file written for it is gone.
        #expect(throws: OutputFileError.exists(path: dir + "/x")) {
            try OutputPath.write(Data("y".utf8), to: dir + "/x", replace: false, durable: false, sweep: LeftoverSweep())
        }
        #expect(Self.names(dir) == [".roomkey-tmp-00000000000000ff", "x"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/x")) == Data("x".utf8))
        // Replacing writes through the same temporary file, durably.
        try OutputPath.write(Data("z".utf8), to: dir + "/x", replace: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/x")) == Data("z".utf8))
        #expect(Self.names(dir) == [".roomkey-tmp-00000000000000ff", "x"])
    }
}
