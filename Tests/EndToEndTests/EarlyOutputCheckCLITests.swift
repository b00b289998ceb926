import Foundation
import Testing

/// A bundle's `-o` path that the bundle could not be written to (a file there, without `--force`) is refused before the
/// change is worked out, not after every stanza was sealed: the refusal names the file even when the change itself
/// would have been refused too. A change that may make no commit (`--if-present`, `--if-missing`) still writes nothing
/// and exits 0.
@Suite struct EarlyOutputCheckCLITests {
    @Test(arguments: [
        ["room", "create", "other", "--member", "nobody"],
        ["room", "add", "solo", "nobody"],
        ["room", "remove", "solo", "nobody"],
        ["room", "promote", "solo", "nobody"],
        ["room", "demote", "solo", "nobody"],
    ])
    func anExistingOutputIsRefusedFirst(command: [String]) throws {
        let s = try OutputFileCLITests.alice()
        let target = s.path("existing.roomkey")
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: target))
        let r = try s.roomkey("alice", command + ["-o", target])
        #expect(r.code == 6, "\(r)")
        #expect(r.stderr.hasPrefix("roomkey: error: \(target) already exists"), "\(r)")
        #expect(OutputFileCLITests.contents(target) == Data("keep me\n".utf8))
        let show = try s.roomkey("alice", ["room", "show", "solo", "--json"])
        #expect(show.code == 0 && show.stdout.contains("\"epoch\":0,"), "nothing was committed: \(show)")
    }

    @Test func aChangeThatMakesNoCommitStillExitsZero() throws {
        let s = try OutputFileCLITests.alice()
        let target = s.path("existing.roomkey")
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: target))
        let r = try s.roomkey("alice", ["room", "remove", "solo", "nobody", "--if-present", "-o", target])
        #expect(r.code == 0, "\(r)")
        #expect(OutputFileCLITests.contents(target) == Data("keep me\n".utf8))
    }
}
