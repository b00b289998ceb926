import Foundation
import Testing
@testable import roomkey

/// `receive` of a synced folder: stray files are ignored with a reason and do not fail the run, each result is
/// printed as it is decided, a summary ends the run, and `-q` prints only errors (issue 12, findings 4 and 10).
@Suite struct ReceiveFolderCLITests {
    /// alice made room `team` with bob; the shared folder holds her bundle and three stray files.
    static func world() throws -> (RoomWorld, bundle: String) {
        let w = try RoomWorld()
        let create = try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"])
        let bundle = try #require(try create.json()["bundle"] as? String)
        try Data().write(to: URL(fileURLWithPath: w.shared + "/empty"))
        try Data("meeting notes\n".utf8).write(to: URL(fileURLWithPath: w.shared + "/notes.txt"))
        try Data("RKB".utf8).write(to: URL(fileURLWithPath: w.shared + "/.roomkey-tmp-0123456789abcdef"))
        try Data("hidden\n".utf8).write(to: URL(fileURLWithPath: w.shared + "/.DS_Store"))
        return (w, bundle)
    }

    @Test func strayFilesAreIgnoredWithTheirReason() throws {
        let (w, bundle) = try Self.world()
        let r = try w.rk("bob", ["receive", w.shared])
        r.expect(exit: 0, stderr: "")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(3)) == [
            "ignored  \(w.shared)/.roomkey-tmp-0123456789abcdef: partly written (a write that has not finished)",
            "ignored  \(w.shared)/empty: empty file",
            "ignored  \(w.shared)/notes.txt: not a roomkey file",
        ], "\(r)")
        #expect(lines.count == 6, "\(r)")
        #expect(lines.count > 3 && lines[3].hasPrefix("applied  \(bundle)  room "), "\(r)")
        #expect(lines.count > 4 && lines[4].hasPrefix("wrote \(w.shared)/"), "\(r)")
        #expect(lines.last == "summary: 1 applied, 3 ignored")

        // Bob's own bundle written into the folder removed the partly written file: no live writer held it.
        #expect(!FileManager.default.fileExists(atPath: w.shared + "/.roomkey-tmp-0123456789abcdef"))
        let again = try w.rk("bob", ["receive", w.shared])
        again.expect(exit: 0, stderr: "")
        #expect(again.stdout.hasSuffix("summary: 1 duplicate, 1 not-for-me, 2 ignored\n"), "\(again)")
    }

    /// A run that only finds duplicates changes nothing: the keyring file keeps its bytes (each duplicate was one
    /// counted write transaction, with its fsync, found by a hostile review).
    @Test func receivingAgainLeavesTheKeyringFileAsItWas() throws {
        let (w, bundle) = try Self.world()
        #expect(try w.rk("bob", ["receive", bundle, "-q"]).code == 0)
        let bob = URL(fileURLWithPath: w.s.keyring("bob"))
        let before = try Data(contentsOf: bob)
        let again = try w.rk("bob", ["receive", "--json", bundle])
        #expect(again.code == 0, "\(again)")
        #expect(try (again.json()["results"] as? [[String: Any]])?.map { $0["status"] as? String } == ["duplicate"])
        #expect(try Data(contentsOf: bob) == before)
        #expect(try w.show("bob")["epoch"] as? Int == 0, "the keyring still opens and holds the room")
    }

    @Test func jsonListsIgnoredFilesWithTheReason() throws {
        let (w, _) = try Self.world()
        let r = try w.rk("bob", ["receive", w.shared, "--json"])
        #expect(r.code == 0, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        let ignored = results.filter { $0["status"] as? String == "ignored" }
        #expect(ignored.map { $0["reason"] as? String } == ["partly written (a write that has not finished)", "empty file", "not a roomkey file"])
        #expect(results.filter { $0["status"] as? String == "applied" }.count == 1)
    }

    @Test func quietPrintsNothingButErrors() throws {
        let (w, _) = try Self.world()
        try w.rk("bob", ["receive", w.shared, "-q"]).expect(exit: 0, stderr: "", stdout: "")
        #expect(try w.show("bob")["epoch"] as? Int == 0)
        let damaged = w.s.path("damaged.roomkey")
        try Data("RKB\u{1}".utf8).write(to: URL(fileURLWithPath: damaged))
        let r = try w.rk("bob", ["receive", damaged, "-q"])
        #expect(r.code == 65, "\(r)")
        #expect(r.stdout == "")
        #expect(r.stderr.hasPrefix("roomkey: error: \(damaged): "), "\(r)")
    }

    /// A file named on the command line is meant to be a bundle: an empty one is malformed (exit 65), and so is a
    /// damaged bundle in a folder (it looks like one, so it is checked, not ignored).
    @Test func namedFilesAndDamagedBundlesStillFail() throws {
        let (w, bundle) = try Self.world()
        let r = try w.rk("bob", ["receive", w.shared + "/empty"])
        #expect(r.code == 65, "\(r)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bundle))
        try bytes.prefix(60).write(to: URL(fileURLWithPath: w.shared + "/truncated"))
        let folder = try w.rk("bob", ["receive", w.shared])
        #expect(folder.code == 65, "\(folder)")
        #expect(folder.stdout.contains("applied  \(bundle)"), "the good bundle is still applied: \(folder)")
        #expect(folder.stdout.contains("malformed  \(w.shared)/truncated"), "\(folder)")
        #expect(folder.stdout.hasSuffix("summary: 1 applied, 3 ignored, 1 malformed\n"), "\(folder)")
    }

    /// Each result is printed when it is decided: a run killed before its rotation has already printed what it applied.
    @Test func resultsArePrintedAsTheyAreDecided() throws {
        let (w, bundle) = try Self.world()
        let r = try w.s.roomkey("bob", ["receive", w.shared], env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_CRASH": "before-rotation"])
        #expect(r.code == SIGKILL, "\(r)")
        #expect(r.stdout.contains("ignored  \(w.shared)/empty: empty file"), "\(r)")
        #expect(r.stdout.contains("applied  \(bundle)  room "), "\(r)")
        #expect(!r.stdout.contains("summary:"), "\(r)")
    }
}

/// The progress line is for people watching a long run: a terminal on standard error and at least 50 inputs.
@Suite struct ReceiveProgressTests {
    @Test func progressOnlyForLongRunsOnATerminal() {
        #expect(ReceiveReport.showsProgress(total: 50, stderrIsTerminal: true))
        #expect(!ReceiveReport.showsProgress(total: 49, stderrIsTerminal: true))
        #expect(!ReceiveReport.showsProgress(total: 800, stderrIsTerminal: false))
    }

    @Test func theSummaryCountsEachStatusInAFixedOrder() {
        #expect(ReceiveReport.summary(["ignored", "applied", "applied", "malformed", "duplicate"])
                == "summary: 2 applied, 1 duplicate, 1 ignored, 1 malformed")
        #expect(ReceiveReport.summary([]) == "summary: nothing to receive")
    }
}

extension ReceiveFolderCLITests {
    /// An input that is there but cannot be read (an I/O error) fails alone: the good input beside it is applied, and
    /// the run exits with the worst code among them (DESIGN 5). Before, it stopped the run with exit 1, nothing applied.
    @Test func anUnreadableInputFailsAloneAndTheOthersApply() throws {
        try #require(FileManager.default.fileExists(atPath: "/proc/self/mem"), "/proc/self/mem (Linux) is needed")
        let (w, bundle) = try Self.world()
        let r = try w.rk("bob", ["receive", "/proc/self/mem", bundle])
        #expect(r.code == 65, "\(r)")
        #expect(r.stdout.contains("malformed  /proc/self/mem: ") && r.stdout.contains("cannot be read"), "\(r)")
        #expect(r.stdout.contains("applied  \(bundle)  room "), "\(r)")
        #expect(try w.rk("bob", ["room", "show", "team"]).code == 0)
    }
}
