import Foundation
import Testing

/// kill -9 at random instants of a sync (issue 14, deliverable 6): an admin's change that syncs by itself is killed
/// after a random delay, eight times over; after each kill the keyring verifies, and after all of them one more sync
/// converges every member on one epoch, head and fingerprint, with exactly one commit file per epoch on the remote
/// (no orphan), and a partly written outbox file left by a kill is ignored by `receive`.
@Suite(.enabled(if: GitWorld.gitAvailable, "git is not installed: the git remote tests need the system git (apt-get install git)"))
struct GitRandomKillTests {
    /// Starts `roomkey args` as `who` in `w` (its keyring, state folder and outbox) without waiting for it.
    static func start(_ w: GitWorld, _ who: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
            .merging(["ROOMKEY_KEYRING": w.s.keyring(who), "XDG_STATE_HOME": w.s.path("state-\(who)"),
                      "ROOMKEY_OUTBOX": w.s.path("outbox-\(who)")]) { $1 }
        p.currentDirectoryURL = w.s.root
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test func killedAtRandomInstantsTheRoomConverges() throws {
        let w = try GitSyncCLITests.team()
        // How long one change with its sync takes here, to spread the kills over it.
        let clock = Date()
        #expect(try w.rk("alice", ["room", "add", "team", "dave", "-q"]).code == 0)
        let span = max(0.2, Date().timeIntervalSince(clock))
        var generator = SystemRandomNumberGenerator()
        var delays: [Double] = []
        for trial in 0..<8 {
            let delay = Double.random(in: 0...(span * 1.2), using: &generator)
            delays.append(delay)
            let change = trial % 2 == 0 ? ["room", "remove", "team", "dave"] : ["room", "add", "team", "dave"]
            let p = try Self.start(w, "alice", change + ["-q"])
            Thread.sleep(forTimeInterval: delay)
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            let audit = try w.rk("alice", ["audit", "--verify", "-q"])
            #expect(audit.code == 0, "after a kill at \(delay) s: \(audit)")
            // What the killed command left staged is published by the next sync, or already was.
            let settle = try w.rk("alice", ["sync", "-q"])
            #expect(settle.code == 0, "after a kill at \(delay) s: \(settle)")
        }
        for p in ["alice", "bob", "carol", "dave", "alice", "bob", "carol", "dave"] { _ = try w.rk(p, ["sync", "-q"]) }
        let alice = try w.state("alice")
        for p in ["bob", "carol"] { #expect(try w.state(p) == alice, "\(p) after kills at \(delays)") }
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let logs = try w.remoteFiles().filter { $0.hasPrefix("rooms/\(room)/log/") }
        #expect(logs.count == alice.0 + 1, "one commit file per epoch, no orphan: \(logs) at epoch \(alice.0), kills at \(delays)")
        // A write killed between its temporary file and the rename leaves `.roomkey-tmp-*` in the outbox (removed by the
        // next write there, TemporaryFile.removeLeftovers); receive reports it as ignored, and the run succeeds.
        let outbox = (try? FileManager.default.contentsOfDirectory(atPath: w.s.path("outbox-alice"))) ?? []
        let partial = outbox.filter { $0.hasPrefix(".roomkey-tmp-") }.map { w.s.path("outbox-alice/\($0)") }
        if !partial.isEmpty {
            // Received as a folder holding just them, as a synced outbox folder would be read.
            let folder = w.s.path("partial")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in partial { try FileManager.default.copyItem(atPath: file, toPath: folder + "/" + (file as NSString).lastPathComponent) }
            let inbox = try w.rk("bob", ["receive", "--json", folder])
            #expect(inbox.code == 0 && !inbox.stdout.contains("\"applied\""), "\(inbox)")
        }
    }
}
