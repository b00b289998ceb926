import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// People whose keyrings share one git repository as their remote: a bare repository on disk (or a `git daemon`
/// serving it). Each person has its own state folder (its mirror of the remote) and its own outbox folder.
final class GitWorld: @unchecked Sendable {
    let s: Sandbox
    /// The bare repository on disk.
    let bare: String
    /// The URL everyone's remote points at.
    var url: String
    var cards: [String: String] = [:]

    /// True when git can be run here (the suites that need it are skipped otherwise, saying so).
    static let gitAvailable: Bool = (try? GitWorld.runGit(["--version"], in: "/")).map { $0.code == 0 } ?? false

    /// `people` get keyrings, every one a contact of every other; those in `classical` have version 1 identities (no
    /// X-Wing key), as keyrings made before post-quantum stanzas.
    init(_ people: [String], classical: Set<String> = []) throws {
        s = try Sandbox()
        bare = s.path("remote.git")
        url = "file://" + bare
        let made = try GitWorld.runGit(["init", "--bare", "-q", bare], in: s.root.path)
        #expect(made.code == 0, "\(made.err)")
        for p in people {
            cards[p] = try s.person(p)
            if classical.contains(p) {
                try Keyring.open(path: s.keyring(p), passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
                    .makeClassicalIdentityForTests()
                cards[p] = try s.roomkey(p, ["id", "export"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        for p in people {
            let others = people.filter { $0 != p }.compactMap { cards[$0] }.joined(separator: "\n")
            if !others.isEmpty { #expect(try rk(p, ["contact", "add", "-"], stdin: Data(others.utf8)).code == 0) }
        }
    }

    /// Runs roomkey as `who`, with its own state folder and outbox.
    func rk(_ who: String, _ args: [String], stdin: Data? = nil, env: [String: String] = [:]) throws -> Run {
        try s.roomkey(who, args, stdin: stdin, env: ["XDG_STATE_HOME": s.path("state-\(who)"), "ROOMKEY_OUTBOX": s.path("outbox-\(who)")]
            .merging(env) { $1 })
    }

    /// `remote add origin URL` for each of `who`.
    func addRemote(_ who: [String]) throws {
        for p in who {
            let r = try rk(p, ["remote", "add", "origin", url])
            #expect(r.code == 0, "\(p): \(r)")
        }
    }

    /// `sync --json` as `who`, expecting success.
    @discardableResult
    func sync(_ who: String, expect code: Int32 = 0) throws -> [String: Any] {
        let r = try rk(who, ["sync", "--json"])
        #expect(r.code == code, "sync as \(who): \(r)")
        return (try? r.json()) ?? [:]
    }

    /// `room show --json` as `who`.
    func show(_ who: String, room: String = "team") throws -> [String: Any] {
        try rk(who, ["room", "show", room, "--json"]).json()
    }

    /// (epoch, head, fingerprint) of `room` as `who` sees it.
    func state(_ who: String, room: String = "team") throws -> (Int, String, String) {
        let show = try show(who, room: room)
        let fp = try rk(who, ["room", "fingerprint", room, "--json"]).json()["fingerprint"] as? String ?? ""
        return (show["epoch"] as? Int ?? -1, show["head"] as? String ?? "", fp)
    }

    /// Runs git with `args` in `dir`, with `env` added to the environment.
    static func runGit(_ args: [String], in dir: String, env extra: [String: String] = [:]) throws -> (code: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", dir] + args
        var env = ProcessInfo.processInfo.environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.merge(["GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@invalid", "GIT_COMMITTER_NAME": "test",
                   "GIT_COMMITTER_EMAIL": "test@invalid"]) { $1 }
        env.merge(extra) { $1 }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let e = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { e.data = err.fileHandleForReading.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.data, as: UTF8.self))
    }

    /// git in the bare repository.
    @discardableResult
    func git(_ args: [String]) throws -> String {
        let r = try GitWorld.runGit(args, in: bare)
        #expect(r.code == 0, "git \(args): \(r.err)")
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The bytes of the file at `path` on the remote's `main`.
    static func blobBytes(_ w: GitWorld, _ path: String) throws -> [UInt8] {
        let copy = w.s.path("blob-\(UUID().uuidString)")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "git --git-dir=\"$1\" cat-file blob \"main:$2\" > \"$3\"", "sh", w.bare, path, copy]
        try shell.run()
        shell.waitUntilExit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: copy)))
    }

    /// Every file path on the remote's `main`.
    func remoteFiles() throws -> [String] {
        try git(["ls-tree", "-r", "--name-only", "refs/heads/main"]).split(separator: "\n").map(String.init)
    }

    /// Commits `files` (path -> bytes; nil deletes) straight into the remote's `main`, as anyone with push access could.
    func tamper(_ files: [String: [UInt8]?]) throws {
        let work = s.path("tamper-\(UUID().uuidString)")
        #expect(try GitWorld.runGit(["clone", "-q", "-b", "main", bare, work], in: s.root.path).code == 0)
        for (path, bytes) in files {
            let full = work + "/" + path
            if let bytes {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(bytes).write(to: URL(fileURLWithPath: full))
            } else {
                try FileManager.default.removeItem(atPath: full)
            }
        }
        #expect(try GitWorld.runGit(["add", "-A"], in: work).code == 0)
        #expect(try GitWorld.runGit(["commit", "-q", "-m", "tamper"], in: work).code == 0)
        let push = try GitWorld.runGit(["push", "-q", "origin", "HEAD:main"], in: work)
        #expect(push.code == 0, "\(push.err)")
    }

    /// Opens `who`'s keyring through the library (no passphrase).
    func keyring(_ who: String) throws -> Keyring {
        try Keyring.open(path: s.keyring(who), passphrase: { throw KeyringError.passphraseRequired }, random: SystemRandom())
    }

    /// A commit bundle for the next epoch of `room` signed by `who` (who may not be an admin), removing `victim`, sealed
    /// to the roster that commit would make: a forgery when `who` is a plain member. `time` defaults to now.
    func forgedCommit(by who: String, removing victim: String, room: String = "team",
                      time: UInt64? = nil) throws -> (epoch: UInt64, bytes: [UInt8]) {
        let keyring = try keyring(who)
        let me = try keyring.identity()
        let stored = try keyring.room(room)
        guard let target = stored.state.roster.sorted.first(where: { $0.card.handle == victim }) else { throw RoomError.notFound(victim) }
        var roster = stored.state.roster
        roster.remove(target.id)
        let commit = Commit(roomID: stored.id, epoch: stored.state.epoch + 1, previousHead: stored.state.head, signer: me.signing,
                            time: time ?? Keyring.systemClock(), operations: [.remove(target.id)], rosterHash: roster.hash)
        let recipients = roster.sorted.filter { $0.id != me.id }.map { (id: $0.id, key: $0.card.sealingKey) }
        let bytes = try BundleSealer.seal(roomID: stored.id, epoch: commit.epoch, signer: me.signing, recipients: recipients,
                                          content: BundleContent.encode(commits: [commit]), random: SystemRandom())
        return (commit.epoch, bytes)
    }
}
