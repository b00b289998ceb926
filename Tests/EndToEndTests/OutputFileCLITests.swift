import Foundation
import Testing

/// Transcripts of the output-file rules every `-o` follows: `-` is standard output, an existing file is refused
/// unless `--force`, a symbolic link is followed, a device or FIFO is written in place, and the `.roomkey-tmp-*`
/// temporary files never outlive a run.
@Suite struct OutputFileCLITests {
    /// A sandbox with alice's keyring and a room `solo` she is alone in.
    static func alice() throws -> Sandbox {
        let s = try Sandbox()
        try s.person("alice")
        let r = try s.roomkey("alice", ["room", "create", "solo", "--outbox", s.path("outbox")])
        #expect(r.code == 0, "\(r)")
        return s
    }

    /// Every name in `folder` that starts with `.roomkey-tmp-` (or the old `.tmp-` backup suffix).
    static func temporaries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            $0.hasPrefix(".roomkey-tmp-") || $0.contains(".tmp-")
        }
    }

    static func type(_ path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    static func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// The commands that take `-o`, each writing into `path` (a room `solo` exists; `alice` runs them).
    static func writers(_ command: String, _ path: String) -> [String] {
        switch command {
        case "id export": ["id", "export", "-o", path]
        case "backup": ["backup", "-o", path]
        case "encrypt": ["encrypt", "solo", "--armor", "-o", path]
        case "room rotate": ["room", "rotate", "solo", "-o", path]
        default: ["room", "create", "other-\(UUID().uuidString.prefix(8))", "-o", path]
        }
    }

    @Test(arguments: ["id export", "backup", "room create"])
    func dashIsStandardOutputAndNoFileNamedDash(command: String) throws {
        let s = try Self.alice()
        let r = try s.roomkey("alice", Self.writers(command, "-"), stdin: Data("hello".utf8))
        #expect(r.code == 0, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: s.path("-")), "a file named - was made")
        switch command {
        case "id export": #expect(r.stdout.hasPrefix("roomkey-card-v2:"))
        case "backup": #expect(r.stdout.hasPrefix("SQLite format 3"))
        default: #expect(!r.stdout.isEmpty && !r.stdout.contains("created room"), "the result must not mix with the bundle: \(r)")
        }
        #expect(Self.temporaries(in: s.root.path).isEmpty)
    }

    @Test func dashForMessagesIsTheSameAsNoOutputOption() throws {
        let s = try Self.alice()
        let r = try s.roomkey("alice", ["encrypt", "solo", "--armor", "-o", "-"], stdin: Data("hello".utf8))
        #expect(r.code == 0, "\(r)")
        #expect(r.stdout.hasPrefix("roomkey-message-v1:"))
        #expect(!FileManager.default.fileExists(atPath: s.path("-")))
        let d = try s.roomkey("alice", ["decrypt", "-o", "-", "--json"], stdin: Data(r.stdout.utf8))
        #expect(!FileManager.default.fileExists(atPath: s.path("-")), "\(d)")
    }

    @Test(arguments: ["id export", "backup", "encrypt", "room rotate"])
    func anExistingFileIsRefusedWithExit6ThenReplacedWithForce(command: String) throws {
        let s = try Self.alice()
        let target = s.path("existing")
        let original = Data("precious backup\n".utf8)
        try original.write(to: URL(fileURLWithPath: target))
        let args = Self.writers(command, target)
        let refused = try s.roomkey("alice", args, stdin: Data("hello".utf8))
        #expect(refused.code == 6, "\(refused)")
        #expect(refused.stderr.contains("roomkey: error: \(target) already exists"), "\(refused)")
        #expect(refused.stderr.contains("roomkey: hint: add --force"), "\(refused)")
        #expect(Self.contents(target) == original)
        #expect(Self.temporaries(in: s.root.path).isEmpty, "\(Self.temporaries(in: s.root.path))")

        let forced = try s.roomkey("alice", args + ["--force"], stdin: Data("hello".utf8))
        #expect(forced.code == 0, "\(forced)")
        #expect(Self.contents(target) != original && Self.contents(target)?.isEmpty == false)
        #expect(Self.type(target) == .typeRegular)
        let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(Self.temporaries(in: s.root.path).isEmpty)
    }

    @Test func decryptAndQRCodeRefuseAnExistingFile() throws {
        let w = try RoomWorld.team(["bob"])
        let message = try w.send("alice", Array("hi bob".utf8))
        let target = w.s.path("plain.txt")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        let refused = try w.run("bob", ["decrypt", message, "-o", target])
        #expect(refused.code == 6, "\(refused)")
        #expect(Self.contents(target) == Data("keep".utf8))
        // Refused before anything changed: the same message still decrypts.
        let forced = try w.run("bob", ["decrypt", message, "-o", target, "--force"])
        #expect(forced.code == 0, "\(forced)")
        #expect(Self.contents(target) == Data("hi bob".utf8))

        let png = w.s.path("qr.png")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: png))
        let qr = try w.run("alice", ["verify", "bob", "--qr-png", png])
        #expect(qr.code == 6, "\(qr)")
        #expect(Self.contents(png) == Data("keep".utf8))
        #expect(try w.run("alice", ["verify", "bob", "--qr-png", png, "--force"]).code == 0)
        #expect(Self.contents(png)?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)
    }

    @Test(arguments: ["id export", "backup", "room rotate"])
    func aSymbolicLinkIsFollowed(command: String) throws {
        let s = try Self.alice()
        let real = s.path("real-target"), link = s.path("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real-target")
        let created = try s.roomkey("alice", Self.writers(command, link))
        #expect(created.code == 0, "\(created)")
        #expect(Self.type(link) == .typeSymbolicLink)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real-target")
        let first = try #require(Self.contents(real))
        #expect(!first.isEmpty)

        // Now the link points at an existing file: refused as that file, replaced through the link with --force.
        let refused = try s.roomkey("alice", Self.writers(command, link))
        #expect(refused.code == 6, "\(refused)")
        let forced = try s.roomkey("alice", Self.writers(command, link) + ["--force"])
        #expect(forced.code == 0, "\(forced)")
        #expect(Self.type(link) == .typeSymbolicLink)
        #expect(Self.type(real) == .typeRegular)
        #expect(Self.temporaries(in: s.root.path).isEmpty)
    }

    @Test(arguments: ["id export", "backup", "room rotate"])
    func aFIFOIsWrittenInPlaceAndStaysAFIFO(command: String) throws {
        let s = try Self.alice()
        let fifo = s.path("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        // The reader holds the FIFO open (non-blocking) from before the run, so the writer never waits, and drains it
        // on another thread: a backup is larger than the pipe buffer.
        let fd = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(fd >= 0)
        defer { close(fd) }
        final class Box: @unchecked Sendable { var data = Data(); var done = false; let lock = NSLock() }
        let box = Box()
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            var sawData = false
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let n = read(fd, &buffer, buffer.count)
                if n > 0 {
                    sawData = true
                    box.lock.withLock { box.data.append(contentsOf: buffer[0..<n]) }
                } else if n == 0, sawData {
                    break  // the writer closed it
                } else if n == 0, box.lock.withLock({ box.done }) {
                    break  // the run ended without ever writing
                } else {
                    usleep(2000)
                }
            }
        }
        reader.start()
        let r = try s.roomkey("alice", Self.writers(command, fifo))
        box.lock.withLock { box.done = true }
        #expect(r.code == 0, "\(r)")
        while !reader.isFinished { usleep(5000) }
        let received = box.lock.withLock { box.data }
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced")
        #expect(!received.isEmpty, "nothing was written into the FIFO: \(r)")
        if command == "backup" { #expect(received.starts(with: Data("SQLite format 3".utf8))) }
        if command == "id export" { #expect(received.starts(with: Data("roomkey-card-v2:".utf8))) }
        #expect(Self.temporaries(in: s.root.path).isEmpty)
    }

    /// A character device made in the sandbox: the same node numbers as /dev/null and /dev/full, so writing them is
    /// harmless, and replacing them could never touch the system's. Nil where mknod is not allowed.
    static func device(_ s: Sandbox, _ name: String, minor: Int) -> String? {
        let path = s.path(name)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mknod", path, "c", "1", String(minor)]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? path : nil
    }

    @Test func aDeviceIsWrittenInPlaceAndNoSpaceIsReported() throws {
        let s = try Self.alice()
        guard let null = Self.device(s, "null-device", minor: 3), let full = Self.device(s, "full-device", minor: 7) else {
            return  // no mknod here (not root, or a container without it)
        }
        for args in [["id", "export", "-o", null], ["backup", "-o", null], ["room", "rotate", "solo", "-o", null]] {
            let r = try s.roomkey("alice", args)
            #expect(r.code == 0, "\(args): \(r)")
            #expect(Self.type(null) == .typeCharacterSpecial, "\(args) replaced the device")
        }
        let r = try s.roomkey("alice", ["id", "export", "-o", full])
        #expect(r.code == 1, "\(r)")
        #expect(r.stderr.contains("roomkey: error: no space left on device while writing \(full)"), "\(r)")
        #expect(Self.type(full) == .typeCharacterSpecial)
        #expect(Self.temporaries(in: s.root.path).isEmpty)
    }

    @Test func aKilledWritersTemporaryFileIsRemovedAtOnceAndALiveWritersIsKept() throws {
        let s = try Self.alice()
        let folder = s.path("out")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A replacement killed with its file complete beside the target, before the rename: the file is left.
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: folder + "/first.txt"))
        let killed = try s.roomkey("alice", ["id", "export", "-o", folder + "/first.txt", "--force"],
                                   env: ["ROOMKEY_TEST_CRASH": "before-rename"])
        #expect(killed.code == SIGKILL, "\(killed)")
        let left = Self.temporaries(in: folder)
        #expect(left.count == 1, "\(left)")
        #expect(Self.contents(folder + "/first.txt") == Data("old\n".utf8))
        // A live writer's file (this process holds its lock, as a writer does), dated an hour back.
        let live = folder + "/.roomkey-tmp-fedcba9876543210"
        let fd = open(live, O_RDWR | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: live)
        let r = try s.roomkey("alice", ["id", "export", "-o", folder + "/card.txt"])
        #expect(r.code == 0, "\(r)")
        #expect(Self.temporaries(in: folder) == [".roomkey-tmp-fedcba9876543210"],
                "the killed run's file must go at once and the live writer's stay: \(Self.temporaries(in: folder))")
    }

    /// A new file is never named until it is whole: runs killed at each of their first writes put in place (state,
    /// bundles, then the output) leave nothing in the output folder, for `-o` and for a batch; the same write run to
    /// the end gives the file, mode 0600, and a second one without --force is refused with nothing changed.
    @Test(arguments: ["id export", "encrypt", "batch"])
    func aKilledWriteOfANewFileLeavesNothing(command: String) throws {
        let s = try Self.alice()
        // A file system without unnamed files (overlayfs before Linux 6.7, NFS) takes the named way, tested above.
        let probe = open(s.root.path, O_WRONLY | __O_TMPFILE | O_DIRECTORY | O_CLOEXEC, 0o600)
        guard probe >= 0 else { return }
        close(probe)
        let input = s.path("note.txt")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: input))
        func args(_ folder: String) -> [String] {
            switch command {
            case "batch": ["encrypt", "solo", input, "-o", folder]
            case "encrypt": ["encrypt", "solo", "-o", folder + "/out.txt"]
            default: ["id", "export", "-o", folder + "/out.txt"]
            }
        }
        var killed = 0
        for n in 1...5 {
            let folder = s.path("out\(n)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let r = try s.roomkey("alice", args(folder), stdin: Data("hello".utf8), env: ["ROOMKEY_TEST_CRASH": "before-rename#\(n)"])
            let names = Self.names(folder)
            if r.code == SIGKILL {
                killed += 1
                #expect(names.isEmpty, "killed at write \(n): \(names)")
            } else {
                #expect(r.code == 0 && names.count == 1 && Self.temporaries(in: folder).isEmpty, "run \(n): \(r) \(names)")
            }
        }
        // Some runs were killed and a later one got through: the last kill was at the last write, the output's.
        #expect(killed > 0 && killed < 5, "\(killed) of 5 runs killed")
        let folder = s.path("out")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let r = try s.roomkey("alice", args(folder), stdin: Data("hello".utf8))
        #expect(r.code == 0, "\(r)")
        let names = Self.names(folder)
        #expect(names.count == 1, "\(names)")
        let mode = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + (names.first ?? "")))?[.posixPermissions] as? Int
        #expect(mode == 0o600, "\(String(mode ?? 0, radix: 8))")
        let before = Self.contents(folder + "/" + (names.first ?? ""))
        let again = try s.roomkey("alice", args(folder), stdin: Data("hello".utf8))
        #expect(again.code == 6, "\(again)")
        #expect(Self.contents(folder + "/" + (names.first ?? "")) == before)
        #expect(Self.names(folder) == names)
    }

    static func names(_ folder: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

    /// Every `.roomkey-tmp-*` file under `root`, as paths relative to it.
    static func temporariesBelow(_ root: String) -> [String] {
        let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return names.filter { ($0 as NSString).lastPathComponent.hasPrefix(".roomkey-tmp-") }.sorted()
    }

    @Test func aKilledDeliverysTemporaryFileInTheOutboxGoesWithTheNextCommandsBundles() throws {
        let s = try Self.alice()
        // Rotations killed at their first, second and third file beside its place (the two rollback state files, the
        // bundles); a run whose kill comes as it catches the state files up at open commits nothing. Each run removes
        // what the runs before it left in the folders it writes into. (A bundle in the outbox folder goes to its free
        // name as an unnamed file, so a kill there leaves nothing; the state files' stay.)
        var left: [String] = []
        for n in 1...3 {
            let killed = try s.roomkey("alice", ["room", "rotate", "solo"], env: ["ROOMKEY_TEST_CRASH": "before-rename#\(n)"])
            #expect(killed.code == SIGKILL, "\(killed)")
            left += Self.temporariesBelow(s.root.path)
        }
        #expect(!left.isEmpty, "no killed run left a file: \(left)")
        // The next command delivers what is undelivered and its own bundle; no killed run's file is left anywhere.
        let r = try s.roomkey("alice", ["room", "rotate", "solo"])
        #expect(r.code == 0, "\(r)")
        #expect(Self.temporariesBelow(s.root.path).isEmpty, "\(Self.temporariesBelow(s.root.path))")
        let listed = try s.roomkey("alice", ["outbox", "list", "--json"])
        let entries = try #require(try listed.json()["entries"] as? [[String: Any]], "\(listed)")
        #expect(entries.count >= 3 && entries.allSatisfy { $0["delivered"] != nil }, "\(listed)")
    }

    @Test func noTemporaryFileIsLeftAfterARefusedBundleOrAFailure() throws {
        let s = try Self.alice()
        // The bundle's refusal comes when it is moved into place, after its temporary file was written.
        let bundle = s.path("bundle")
        try Data("an earlier bundle".utf8).write(to: URL(fileURLWithPath: bundle))
        let refused = try s.roomkey("alice", ["room", "rotate", "solo", "-o", bundle])
        #expect(refused.code == 6, "\(refused)")
        #expect(Self.contents(bundle) == Data("an earlier bundle".utf8))
        #expect(Self.temporaries(in: s.root.path).isEmpty, "\(Self.temporaries(in: s.root.path))")

        // A folder that does not exist: the OS reason is given.
        let missing = try s.roomkey("alice", ["backup", "-o", s.path("gone/backup")])
        #expect(missing.code == 1, "\(missing)")
        #expect(missing.stderr.contains("cannot write \(s.path("gone/backup")): no such file or directory"), "\(missing)")

        // A folder is refused, never replaced.
        let folder = try s.roomkey("alice", ["backup", "-o", s.root.path, "--force"])
        #expect(folder.code == 6, "\(folder)")

        // backup -o - makes its copy beside the keyring and removes it.
        #expect(try s.roomkey("alice", ["backup", "-o", "-"]).code == 0)
        #expect(Self.temporaries(in: s.root.appendingPathComponent("alice").path).isEmpty)
    }

    @Test(.enabled(if: getuid() != 0, "root writes into read-only folders"))
    func aReadOnlyFolderFailsWithTheReasonAndLeavesNothing() throws {
        let s = try Self.alice()
        let folder = s.path("readonly")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o500)
        defer { chmod(folder, 0o700) }
        for args in [["id", "export", "-o", folder + "/card"], ["backup", "-o", folder + "/backup"]] {
            let r = try s.roomkey("alice", args)
            #expect(r.code == 1, "\(r)")
            #expect(r.stderr.contains("permission denied"), "\(r)")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)
    }
}
