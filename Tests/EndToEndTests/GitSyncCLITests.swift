import Foundation
import Testing

/// `remote` and `sync` on a real git repository: a bare repository on disk and a `git daemon` on 127.0.0.1.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitSyncCLITests {
    /// alice (admin) creates "team" with bob and carol, everyone names the remote, and everyone syncs.
    static func team(_ extra: [String] = ["dave"], url: ((GitWorld) throws -> String)? = nil) throws -> GitWorld {
        let w = try GitWorld(["alice", "bob", "carol"] + extra)
        if let url { w.url = try url(w) }
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.addRemote(["alice", "bob", "carol"] + extra)
        try w.sync("alice")
        for p in ["bob", "carol"] { try w.sync(p) }
        return w
    }

    @Test func remoteAddListRemove() throws {
        let w = try GitWorld(["alice"])
        #expect(try w.rk("alice", ["sync"]).code == 4)
        #expect(try w.rk("alice", ["remote", "add", "origin", w.url]).code == 0)
        let again = try w.rk("alice", ["remote", "add", "origin", w.url])
        #expect(again.code == 6 && again.stderr.contains("roomkey: error: a remote named \"origin\" exists already"), "\(again)")
        #expect(try w.rk("alice", ["remote", "add", "--", "-x", w.url]).code == 64)
        #expect(try w.rk("alice", ["remote", "add", "../up", w.url]).code == 64)
        let dash = try w.rk("alice", ["remote", "add", "evil", "--", "--upload-pack=touch /tmp/x"])
        #expect(dash.code == 64, "\(dash)")
        let list = try w.rk("alice", ["remote", "list", "--json"]).json()
        let remotes = try #require(list["remotes"] as? [[String: Any]])
        #expect(remotes.map { $0["name"] as? String } == ["origin"])
        #expect(remotes.first?["url"] as? String == w.url)
        try w.sync("alice")
        let mirror = try #require(GitMirrorSafetyTests.mirrors(w, "alice").first)
        #expect(FileManager.default.fileExists(atPath: mirror + "/HEAD"))
        // Nothing personal in the keyring file: the URL is sealed like every other row.
        let raw = w.s.rawBytes(of: "alice")
        #expect(raw.range(of: Data(w.bare.utf8)) == nil)
        #expect(try w.rk("alice", ["remote", "remove", "origin"]).code == 0)
        #expect(GitMirrorSafetyTests.mirrors(w, "alice").isEmpty)
        #expect(try w.rk("alice", ["remote", "remove", "origin"]).code == 4)
        #expect(try w.rk("alice", ["remote", "list", "--json"]).json()["remotes"] as? [Any] != nil)
    }

    @Test func aTeamOnABareRepository() throws {
        let w = try Self.team()
        #expect(try w.state("bob").0 == 0)
        // A change on a room with a remote is published by the command itself.
        let add = try w.rk("alice", ["room", "add", "team", "dave", "--json"])
        #expect(add.code == 0, "\(add)")
        let published = try #require(try add.json()["published"] as? [[String: Any]])
        #expect(published.map { $0["epoch"] as? Int } == [1])
        for _ in 0..<2 { for p in ["bob", "carol", "dave", "alice"] { try w.sync(p) } }
        let alice = try w.state("alice")
        #expect(alice.0 == 1)
        for p in ["bob", "carol", "dave"] { #expect(try w.state(p) == alice, "\(p)") }
        // The repository holds hex names only, in the documented layout, and commits by the fixed author.
        let files = try w.remoteFiles()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        #expect(files.contains("rooms/\(room)/log/0.roomkey") && files.contains("rooms/\(room)/log/1.roomkey"))
        #expect(files.contains { $0.hasPrefix("rooms/\(room)/keys/1/") })
        for f in files {
            #expect(f.range(of: "^rooms/[0-9a-f]{32}/(log/[0-9]+|keys/[0-9]+/[0-9a-f]{32}-[0-9]+)\\.roomkey$", options: .regularExpression) != nil, "\(f)")
        }
        let authors = try w.git(["log", "--format=%an <%ae> %cn <%ce> %s", "main"]).split(separator: "\n")
        #expect(!authors.isEmpty && authors.allSatisfy { $0 == "roomkey <roomkey@invalid> roomkey <roomkey@invalid> roomkey sync" })
        // A member's leave request goes through the remote; an admin's sync publishes the removal.
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        try w.sync("carol")
        let admin = try w.sync("alice")
        #expect((admin["published"] as? [[String: Any]])?.first?["epoch"] as? Int == 2, "\(admin)")
        for p in ["bob", "dave"] { try w.sync(p) }
        #expect(try w.state("bob") == w.state("alice"))
        let members = try #require(try w.show("bob")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(Set(members) == ["alice", "bob", "dave"])
    }

    @Test func stagedWithNoSyncIsPublishedByTheNextSync() throws {
        let w = try Self.team()
        let staged = try w.rk("alice", ["room", "add", "team", "dave", "--no-sync", "--json"])
        #expect(staged.code == 0, "\(staged)")
        #expect(try w.state("alice").0 == 0)
        // A request the rules refuse is refused at once, against the roster with the staged change in it.
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "--no-sync"]).code == 6)
        #expect(try w.rk("alice", ["room", "remove", "team", "dave", "--no-sync"]).code == 0)
        let sync = try w.sync("alice")
        let ops = (sync["published"] as? [[String: Any]])?.flatMap { ($0["operations"] as? [[String: Any]]) ?? [] }.compactMap { $0["op"] as? String }
        #expect(ops == ["add", "remove"], "\(sync)")
        #expect(try w.state("alice").0 == 1)
        #expect(sync["still_staged"] as? Int == 0)
    }

    @Test func offboardStagesAndPublishes() throws {
        let w = try Self.team([])
        let r = try w.rk("alice", ["offboard", "carol", "--json"])
        #expect(r.code == 0, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["removed"])
        #expect(results.first?["epoch"] as? Int == 1)
        try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"))
        let members = try #require(try w.show("bob")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(Set(members) == ["alice", "bob"])
    }

    @Test func gitDaemonOnLoopback() throws {
        let daemonRoot = try Sandbox()
        let repo = daemonRoot.path("team.git")
        #expect(try GitWorld.runGit(["init", "--bare", "-q", repo], in: daemonRoot.root.path).code == 0)
        // Like a hosting service: partial clones allowed, so the mirrors never download files over the size limit.
        for setting in ["uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"] {
            #expect(try GitWorld.runGit(["config", setting, "true"], in: repo).code == 0)
        }
        let (daemon, port) = try Self.startDaemon(serving: daemonRoot)
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        let w = try Self.team([], url: { _ in "git://127.0.0.1:\(port)/team.git" })
        let add = try w.rk("alice", ["room", "remove", "team", "carol", "--json"])
        #expect(add.code == 0, "\(add)")
        let bob = try w.sync("bob")
        #expect(try w.state("bob") == w.state("alice"))
        #expect(try w.state("bob").0 == 1)
        // bob's mirror is a partial clone of this server (files over the limit are never downloaded), and it worked.
        #expect(bob["filter_ignored"] as? Bool == false, "\(bob)")
        let mirror = try #require(GitMirrorSafetyTests.mirrors(w, "bob").first)
        let packs = (try? FileManager.default.contentsOfDirectory(atPath: mirror + "/objects/pack")) ?? []
        #expect(packs.contains { $0.hasSuffix(".promisor") }, "\(packs)")
    }

    /// The README's "team on a git remote" block runs after the walk-through and administration blocks, as
    /// `scripts/demo` runs them, and ends as it says.
    @Test func readmeGitBlockRuns() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lines = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8).components(separatedBy: "\n")
        func block(_ name: String) throws -> String {
            let begin = try #require(lines.firstIndex(of: "<!-- \(name):begin -->"))
            let end = try #require(lines.firstIndex(of: "<!-- \(name):end -->"))
            return lines[(begin + 2)..<(end - 1)].joined(separator: "\n")
        }
        let s = try Sandbox()
        try Data((try ["walkthrough", "admin", "git"].map(block).joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: s.path("walkthrough.sh")))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "walkthrough.sh"]
        process.currentDirectoryURL = s.root
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        env["PATH"] = CLI.binary.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["XDG_STATE_HOME"] = s.path("state")
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "README blocks failed:\n\(text)")
        // alice, bob and erin agree on the epoch erin joined; alice's last sync published erin's removal.
        let fingerprints = text.components(separatedBy: "\n").filter { $0.hasPrefix("room team at epoch 4:") }
        #expect(fingerprints.count == 3, "\(text)")
        #expect(Set(fingerprints).count == 1)
        #expect(text.contains("published room team epoch 5: remove"), "\(text)")
        #expect(text.contains("rooms/<id>/log/5.roomkey"))
        let listed = text.components(separatedBy: "\n").filter { $0.hasPrefix("rooms/") }
        #expect(!listed.isEmpty && listed.allSatisfy { $0.range(of: "^rooms/<id>/(log|keys|leave)/[0-9<>a-z/-]+\\.roomkey$", options: .regularExpression) != nil },
                "\(listed)")
    }

    /// A `git daemon` on 127.0.0.1 serving the repositories in `root` (pushes allowed), listening: the caller kills it.
    static func startDaemon(serving root: Sandbox) throws -> (Process, UInt16) {
        let port = try freePort()
        // git-daemon itself (not the `git` wrapper, which would outlive a SIGTERM), so the test can stop it.
        let execPath = try GitWorld.runGit(["--exec-path"], in: "/").out.trimmingCharacters(in: .whitespacesAndNewlines)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: execPath + "/git-daemon")
        daemon.arguments = ["--reuseaddr", "--export-all", "--enable=receive-pack", "--base-path=\(root.root.path)",
                            "--listen=127.0.0.1", "--port=\(port)", root.root.path]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        #expect(waitForListener(port: port), "git daemon did not start listening on 127.0.0.1:\(port)")
        return (daemon, port)
    }

    /// A TCP port nobody listens on now.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        #expect(bound == 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Polls until something accepts connections on the port (at most about 10 s).
    static func waitForListener(port: UInt16) -> Bool {
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = port.bigEndian
            let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
            close(fd)
            if ok { return true }
            usleep(50_000)
        }
        return false
    }
}

/// A room forgotten here comes back with the next sync, as CLI.md says: the sync listed only what changed since its
/// marker, so the room's files never came again (a review).
@Suite(.enabled(if: GitWorld.gitAvailable, "needs the system git"))
struct GitForgetCLITests {
    @Test func aForgottenRoomComesBackWithTheNextSync() throws {
        let w = try GitSyncCLITests.team()
        let before = try w.state("carol")
        #expect(try w.rk("carol", ["room", "forget", "team", "--force"]).code == 0)
        #expect(try w.rk("carol", ["room", "show", "team"]).code == 4)
        try w.sync("carol")
        #expect(try w.state("carol") == before)
        // And it keeps up: alice's next change reaches it.
        #expect(try w.rk("alice", ["room", "remove", "team", "bob"]).code == 0)
        try w.sync("carol")
        #expect(try w.state("carol") == w.state("alice"))
    }
}

/// A new room's first publish is no sign of a remote behind this keyring (a review: it warned "remote is behind this
/// keyring at epoch 0" for every new room).
@Suite(.enabled(if: GitWorld.gitAvailable, "needs the system git"))
struct GitNewRoomCLITests {
    @Test func aNewRoomsFirstPublishDoesNotWarn() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("alice", ["room", "create", "side", "--member", "bob", "-q"]).code == 0)
        let r = try w.rk("alice", ["sync"])
        #expect(r.code == 0 && !r.stderr.contains("remote is behind"), "\(r)")
        try w.sync("bob")
        #expect(try w.state("bob", room: "side") == w.state("alice", room: "side"))
    }
}
