import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Review r, medium: a handle is chosen by its owner, so a line of text that quotes it must double a quote inside it,
/// or a member named `mallory", remove "carol` reads in `room report` as a removal nobody made.
@Suite struct QuotedHandleReportCLITests {
    static let hostile = "mallory\", remove \"carol"

    @Test func aQuoteInAHandleCannotSpellAnOperationInTheReport() throws {
        let w = try RoomWorld()
        #expect(try w.s.roomkey("mallory", ["init", "--name", Self.hostile, "--no-passphrase", "-q"]).code == 0)
        let card = try w.s.roomkey("mallory", ["id", "export"]).stdout
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "carol"]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", Self.hostile]).code == 0)

        let report = try w.rk("alice", ["room", "report", "team"])
        #expect(report.code == 0, "\(report)")
        let epoch1 = report.stdout.split(separator: "\n").first { $0.hasPrefix("epoch 1 ") }.map(String.init) ?? ""
        #expect(epoch1.hasSuffix("  add \"mallory\"\", remove \"\"carol\""), "\(report)")
        #expect(!epoch1.contains("add \"mallory\", remove \"carol\""), "\(report)")
        // JSON holds the handle as it is.
        let json = try w.rk("alice", ["room", "report", "team", "--json"]).json()
        let epochs = json["epochs"] as? [[String: Any]] ?? []
        #expect((epochs.last?["operations"] as? [String]) == ["add \(Self.hostile)"], "\(json)")
        #expect((try w.show("alice")["members"] as? [[String: Any]])?.contains { $0["handle"] as? String == "carol" } == true)

        // Review s: the author, a bundle's sender and the member lines quote the handle too.
        let alice = try #require(try w.rk("alice", ["id", "export"]).stdout.data(using: .utf8))
        #expect(try w.rk("mallory", ["contact", "add", "-"], stdin: alice).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", Self.hostile]).code == 0)
        #expect(try w.rk("mallory", ["receive"] + (try w.bundles())).code == 0)
        #expect(try w.rk("mallory", ["room", "promote", "team", "carol"]).code == 0)
        #expect(try w.rk("alice", ["receive"] + (try w.bundles())).code == 0)
        let again = try w.rk("alice", ["room", "report", "team"]).stdout
        let quoted = "\"mallory\"\", remove \"\"carol\""
        let epoch3 = again.split(separator: "\n").first { $0.hasPrefix("epoch 3 ") }.map(String.init) ?? ""
        #expect(epoch3.hasPrefix("epoch 3  by \(quoted)  ") && epoch3.hasSuffix("  promote \"carol\""), "\(again)")
        #expect(again.contains("  bundle received from \(quoted) to "), "\(again)")
        #expect(again.contains("\n  \(quoted)  admin  "), "\(again)")
        #expect(again.contains("epoch 0  by \"alice\"  "), "\(again)")
    }
}
