import Foundation
import Testing
@testable import roomkey

/// The file `receive` read ahead is read again only while it is the same regular file, without blocking and never
/// past the size it had (found by review: the path was opened again as it stood, a FIFO hung and /dev/zero streamed).
@Suite struct ReadAheadFileTests {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "read-ahead-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theSameFileIsReadAgainAndAnotherIsRefused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/b.roomkey"
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: path))
        let known = try #require(ReadAheadFile.identify(path))
        #expect(try known.readAgain() == [1, 2, 3, 4])
        // Replaced by another file (a new inode), by a FIFO, and by a symlink to /dev/zero: refused, at once.
        try FileManager.default.removeItem(atPath: path)
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: path))
        let other = try #require(ReadAheadFile.identify(path))
        if other.inode != known.inode { #expect(throws: ReadAheadFile.ReadAgainError.self) { try known.readAgain() } }
        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o600) == 0)
        #expect(ReadAheadFile.identify(path) == nil)
        #expect(throws: ReadAheadFile.ReadAgainError.self) { try known.readAgain() }
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        #expect(ReadAheadFile.identify(path) == nil)
        #expect(throws: ReadAheadFile.ReadAgainError.self) { try known.readAgain() }
        // Gone: refused with the reason.
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: ReadAheadFile.ReadAgainError.self) { try known.readAgain() }
    }

    @Test func aFileThatChangedInPlaceIsRefused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/b.roomkey"
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: path))
        let known = try #require(ReadAheadFile.identify(path))
        // Same inode, grown: refused (never more than the size it had).
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data([5]))
        try handle.close()
        #expect(throws: ReadAheadFile.ReadAgainError.self) { try known.readAgain() }
    }
}
