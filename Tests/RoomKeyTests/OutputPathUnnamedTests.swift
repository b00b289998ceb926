import Foundation
@testable import RoomKey
import Testing

/// A new output file is written unnamed (`O_TMPFILE`) and linked into place whole: it lands with its bytes and mode
/// 0600 and nothing beside it, an existing file is refused untouched, and a dangling link gets its target made.
@Suite struct OutputPathUnnamedTests {
    /// Folders on the test's temporary folder and, where there is one, on a tmpfs.
    static var roots: [String] {
        [FileManager.default.temporaryDirectory.path] + (FileManager.default.fileExists(atPath: "/dev/shm") ? ["/dev/shm"] : [])
    }

    static func folder(in root: String) throws -> String {
        let path = root + "/rk-unnamed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// True when `folder`'s file system makes unnamed files (overlayfs before Linux 6.7 and NFS do not).
    static func unnamedFilesWork(in folder: String) -> Bool {
        let fd = open(folder, O_WRONLY | __O_TMPFILE | O_DIRECTORY | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        return fd >= 0 && OutputPath.canLinkUnnamed
    }

    static func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    @Test(arguments: roots)
    func aNewFileLandsWholeAndAnExistingOneIsRefusedUntouched(root: String) throws {
        let dir = try Self.folder(in: root)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for durable in [true, false] {
            let path = dir + "/out-\(durable)"
            try OutputPath.write(bytes, to: path, replace: false, durable: durable)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
            var st = stat()
            #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600 && st.st_nlink == 1, "\(String(st.st_mode, radix: 8))")
        }
        #expect(Self.names(dir) == ["out-false", "out-true"])
        // Where the system allows it the file went unnamed (else `write` took the named way, as checked above).
        if Self.unnamedFilesWork(in: dir) {
            #expect(try OutputPath.placeUnnamed(Data("direct".utf8), at: dir + "/direct", folder: dir, durable: true))
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/direct")) == Data("direct".utf8))
            try FileManager.default.removeItem(atPath: dir + "/direct")
        }

        #expect(throws: OutputFileError.exists(path: dir + "/out-true")) {
            try OutputPath.write(Data("other".utf8), to: dir + "/out-true", replace: false)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/out-true")) == bytes)
        #expect(Self.names(dir) == ["out-false", "out-true"], "a refused write leaves nothing")

        // A dangling link: its target is made, the link stays.
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/target")
        try OutputPath.write(Data("via link".utf8), to: dir + "/link", replace: false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/target")) == Data("via link".utf8))
        #expect(Self.names(dir) == ["link", "out-false", "out-true", "target"])

        // A folder that is not there is reported as the system says, with nothing made.
        #expect(throws: OutputFileError.system(path: dir + "/missing/out", errno: ENOENT)) {
            try OutputPath.write(Data("x".utf8), to: dir + "/missing/out", replace: false)
        }
    }
}

/// Without `inPlace` (a bundle named by an interrupted command, written later), nothing that exists at the name is
/// written: a FIFO that appeared there is refused at once instead of blocking the command until a reader comes.
@Suite struct OutputPathNewOnlyTests {
    @Test func aFIFOAtTheNameIsRefusedWithoutWaiting() throws {
        let dir = try OutputPathUnnamedTests.folder(in: FileManager.default.temporaryDirectory.path)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/out.roomkey"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: OutputFileError.exists(path: fifo)) {
            try OutputPath.write(Data("bundle".utf8), to: fifo, replace: false, followLinks: false, inPlace: false)
        }
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
        #expect(OutputPathUnnamedTests.names(dir) == ["out.roomkey"])
        // A free name gets the file.
        try OutputPath.write(Data("bundle".utf8), to: dir + "/free.roomkey", replace: false, followLinks: false, inPlace: false)
        #expect(FileManager.default.contents(atPath: dir + "/free.roomkey") == Data("bundle".utf8))
    }
}
