import Foundation
import Testing
@testable import RoomKey

/// The rollback anchor is kept per keyring file, and only a regular file of the user's is one.
@Suite struct RollbackAnchorCLITests {
    /// A review: following the restore hint ("restore to another path with --keyring to look at it") lowered the
    /// anchor of the live keyring, and an older copy of it then opened without a word, its ratchets rewound.
    @Test func aBackupRestoredElsewhereLeavesTheLiveKeyringsAnchor() throws {
        let w = try RoomWorld.team(["bob"])
        let live = w.s.keyring("alice")
        #expect(try w.rk("alice", ["backup", "-o", w.s.path("old.backup")]).code == 0)
        #expect(try w.rk("alice", ["encrypt", "team", "-o", w.s.path("m0.msg")], stdin: Data("one".utf8)).code == 0)
        let old = try Data(contentsOf: URL(fileURLWithPath: live))
        #expect(try w.rk("alice", ["encrypt", "team", "-o", w.s.path("m1.msg")], stdin: Data("two".utf8)).code == 0)

        let look = w.s.path("look/keyring.sqlite")
        let restored = try w.s.roomkey("alice", ["restore", w.s.path("old.backup"), "--keyring", look])
        #expect(restored.code == 0, "\(restored)")
        #expect(try w.s.roomkey("alice", ["room", "list", "--keyring", look]).code == 0, "the restored copy opens at its path")

        // An older copy at a path never used (a review: the restore elsewhere had lowered the key's one anchor).
        let elsewhere = w.s.path("copy/keyring.sqlite")
        try FileManager.default.createDirectory(atPath: w.s.path("copy"), withIntermediateDirectories: true)
        try old.write(to: URL(fileURLWithPath: elsewhere))
        #expect(chmod(elsewhere, 0o600) == 0)
        let atElsewhere = try w.s.roomkey("alice", ["room", "list", "--keyring", elsewhere])
        #expect(atElsewhere.code == 2, "\(atElsewhere.stderr)")

        try old.write(to: URL(fileURLWithPath: live))
        let refused = try w.rk("alice", ["room", "list"])
        #expect(refused.code == 2, "\(refused)")
        #expect(refused.stderr.contains("is older than the state this machine last saw"), "\(refused)")
    }

    /// The copy restored elsewhere, copied over the live keyring, is an older keyring there (a review: it opened, with a
    /// removed member back in its room); and an accepted rollback starts a new lineage rather than lowering the old one,
    /// so the copies between the accepted one and the newest are still refused (a review: they all opened).
    @Test func aLookCopyOverTheLiveKeyringAndCopiesAfterAnAcceptedRollbackAreRefused() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let live = w.s.keyring("alice")
        #expect(try w.rk("alice", ["backup", "-o", w.s.path("old.backup")]).code == 0)
        #expect(try w.rk("alice", ["room", "remove", "team", "carol"]).code == 0)
        let look = w.s.path("look/keyring.sqlite")
        #expect(try w.s.roomkey("alice", ["restore", w.s.path("old.backup"), "--keyring", look]).code == 0)
        let current = try Data(contentsOf: URL(fileURLWithPath: live))
        try Data(contentsOf: URL(fileURLWithPath: look)).write(to: URL(fileURLWithPath: live))
        let swapped = try w.rk("alice", ["room", "show", "team"])
        #expect(swapped.code == 2, "\(swapped)")
        try current.write(to: URL(fileURLWithPath: live))
        #expect(try w.rk("alice", ["room", "show", "team"]).code == 0)
        // Written to at its own path until its count passes the live keyring's, the look copy is still another copy
        // there (a crash review: one write was enough, as the path's anchor compared counts alone).
        for _ in 0..<3 {
            #expect(try w.s.roomkey("alice", ["room", "rotate", "team", "--keyring", look], env: ["ROOMKEY_OUTBOX": w.shared]).code == 0)
        }
        try Data(contentsOf: URL(fileURLWithPath: look)).write(to: URL(fileURLWithPath: live))
        let written = try w.rk("alice", ["room", "show", "team"])
        #expect(written.code == 2 && written.stderr.contains("is another copy of this keyring than the one this machine last used"),
                "\(written)")
        try current.write(to: URL(fileURLWithPath: live))
        #expect(try w.rk("alice", ["room", "show", "team"]).code == 0)

        let s1 = try Data(contentsOf: URL(fileURLWithPath: live))
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let s2 = try Data(contentsOf: URL(fileURLWithPath: live))
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        try s1.write(to: URL(fileURLWithPath: live))
        #expect(try w.rk("alice", ["room", "list", "--accept-rollback"]).code == 0)
        try s2.write(to: URL(fileURLWithPath: live))
        let between = try w.rk("alice", ["room", "list"])
        #expect(between.code == 2, "\(between)")
    }

    /// The anchor follows the keyring, not its path: moved, an older copy put back at any name it had is refused (a
    /// review of a per-path anchor, which let it through). A second hard link is refused outright (a crash review: two
    /// names kept two logs and two locks, and one admin forked its own room).
    @Test func aMovedOrLinkedKeyringKeepsItsAnchor() throws {
        let w = try RoomWorld.team(["bob"])
        let live = w.s.keyring("alice")
        let moved = w.s.path("alice/moved.sqlite"), linked = w.s.path("alice/linked.sqlite")
        #expect(try w.rk("alice", ["room", "rotate", "team"]).code == 0)
        let old = try Data(contentsOf: URL(fileURLWithPath: live))
        #expect(link(live, linked) == 0)
        // A keyring with a second name is refused, through either name (SQLite's log and locks are per name).
        for name in [linked, live] {
            let twice = try w.s.roomkey("alice", ["room", "rotate", "team", "--keyring", name], env: ["ROOMKEY_OUTBOX": w.shared])
            #expect(twice.code == 6 && twice.stderr.contains("has 1 other name(s) (hard links)"), "\(twice)")
        }
        try FileManager.default.removeItem(atPath: linked)
        // The second name a killed init or restore leaves (its temporary file, linked at the keyring's name and not yet
        // removed) goes at the next open, which then goes on.
        let leftover = w.s.path("alice/.roomkey-tmp-killed")
        #expect(link(live, leftover) == 0)
        #expect(try w.s.roomkey("alice", ["room", "rotate", "team", "--keyring", live], env: ["ROOMKEY_OUTBOX": w.shared]).code == 0)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        try FileManager.default.moveItem(atPath: live, toPath: moved)
        #expect(try w.s.roomkey("alice", ["room", "rotate", "team", "--keyring", moved], env: ["ROOMKEY_OUTBOX": w.shared]).code == 0)
        try old.write(to: URL(fileURLWithPath: live))
        #expect(chmod(live, 0o600) == 0)
        #expect(try w.rk("alice", ["room", "list"]).code == 2, "the old path")
        try old.write(to: URL(fileURLWithPath: linked))
        #expect(chmod(linked, 0o600) == 0)
        #expect(try w.s.roomkey("alice", ["room", "list", "--keyring", linked]).code == 2, "the other link's name")
        #expect(try w.s.roomkey("alice", ["room", "list", "--keyring", moved]).code == 0, "the keyring itself")
    }

    /// The state file's name holding a FIFO hung every command; a link had its target written over; a folder turned
    /// detection off. Each is refused, exit 6, as the keyring's other side files are, and nothing is written through it.
    @Test(arguments: ["fifo", "link", "folder"])
    func aStateFileThatIsNoRegularFileIsRefused(_ kind: String) throws {
        let s = try Sandbox()
        try s.person("alice")
        let folder = s.path("state/roomkey")
        let states = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".state") }
        #expect(!states.isEmpty)
        let victim = s.path("victim.txt")
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        for name in states {
            let file = folder + "/" + name
            try FileManager.default.removeItem(atPath: file)
            switch kind {
            case "fifo": #expect(mkfifo(file, 0o600) == 0)
            case "link": try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: victim)
            default: try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: false)
            }
        }
        let r = try s.roomkey("alice", ["room", "create", "team"])
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr.contains("is not a regular file of yours"), "\(r)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }
}
