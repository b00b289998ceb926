import Foundation
import Testing
@testable import RoomKeyCore
@testable import roomkey

/// `receive` of more than `Receive.wholeInputBudget` bytes reads its files ahead one by one and keeps each bundle with
/// this keyring's stanza only, reading a file again only to keep it as pending. Debug builds take the budget from
/// `ROOMKEY_TEST_RECEIVE_BUDGET`: at 0 every run goes that way, and must print, exit and store what the whole read does.
@Suite struct ReadAheadCLITests {
    static let ahead = ["ROOMKEY_TEST_RECEIVE_BUDGET": "0"]

    static func receive(_ w: RoomWorld, _ who: String, _ args: [String], ahead: Bool) throws -> Run {
        try w.s.roomkey(who, ["receive"] + args, env: ["ROOMKEY_OUTBOX": w.shared].merging(ahead ? Self.ahead : [:]) { $1 })
    }

    /// Bad files give the same lines and exit code both ways, and leave bob's keyring as it was.
    @Test func badFilesFailAlikeBothWays() throws {
        try FollowedReadCLITests.badFilesFailAlike(readingWith: Self.ahead)
    }

    /// A rotation that arrives before its commit is kept whole as pending (its file read again), and applied when the
    /// commit comes; a folder of both is received as the whole read receives it.
    @Test func aBundleReadAheadWaitsWholeAndAppliesLater() throws {
        let w = try RoomWorld()
        try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).expect(exit: 0, stderr: "")
        for who in ["bob", "carol", "dave"] { try Self.receive(w, who, [w.shared, "-q"], ahead: false).expect(exit: 0, stderr: "", stdout: "") }
        let removal = try #require(try w.rk("alice", ["room", "remove", "team", "dave", "--json"]).json()["bundle"] as? String)
        let rotation = try #require(try w.rk("alice", ["room", "rotate", "team", "--json"]).json()["bundle"] as? String)
        let early = try Self.receive(w, "bob", [rotation], ahead: true)
        #expect(early.code == 5 && early.stdout.hasPrefix("pending  \(rotation)"), "\(early)")
        let late = try Self.receive(w, "bob", [removal], ahead: true)
        #expect(late.code == 0, "\(late)")
        #expect(late.stdout.contains("applied  \(removal)") && late.stdout.contains("applied  \(rotation)"), "\(late)")
        // carol gets both in one folder, read ahead; the result is what the whole read gives.
        let folder = w.s.path("both")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for path in [removal, rotation] {
            try FileManager.default.copyItem(atPath: path, toPath: folder + "/" + (path as NSString).lastPathComponent)
        }
        let both = try Self.receive(w, "carol", [folder], ahead: true)
        #expect(both.code == 0 && both.stdout.contains("summary: 2 applied"), "\(both)")
        let message = try w.rk("alice", ["encrypt", "team", "--armor"], stdin: Data("after the rotation\n".utf8))
        #expect(message.code == 0, "\(message)")
        for who in ["bob", "carol"] {
            let read = try w.rk(who, ["decrypt"], stdin: Data(message.stdout.utf8))
            #expect(read.code == 0 && read.stdout.contains("after the rotation"), "\(who): \(read)")
        }
    }
}
