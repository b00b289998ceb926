import Foundation
import Testing

/// Issue 11, finding 6: a line list's entry limit is checked before its first entry is parsed.
@Suite struct BoundedInputCLITests {
    @Test func aCardListOf300000LinesIsRefusedBeforeAnyCardIsParsed() throws {
        let s = try Sandbox()
        try s.person("alice")
        // Every line is garbage: parsing the first one would fail with "line 1".
        let list = s.path("cards.txt")
        try Data(String(repeating: "roomkey-card-v1:garbage\n", count: 300_000).utf8).write(to: URL(fileURLWithPath: list))
        for input in [list, "-"] {
            let r = try s.roomkey("alice", ["contact", "add", input],
                                  stdin: input == "-" ? try Data(contentsOf: URL(fileURLWithPath: list)) : nil)
            #expect(r.code == 65, "\(r)")
            // A file is named (standard input has no name).
            #expect(r.stderr == "roomkey: error: \(input == "-" ? "" : input + ": ")card list is too large: 300000 (limit 100000)\n", "\(r)")
        }
        #expect((try s.roomkey("alice", ["contact", "list", "--json"]).json()["contacts"] as? [Any])?.count == 0)
    }

    @Test func aMembersFileOf300000LinesIsRefusedBeforeAnyNameIsLookedUp() throws {
        let s = try Sandbox()
        try s.person("alice")
        let file = s.path("members.txt")
        try Data((0..<300_000).map { "nobody\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: file))
        for args in [["room", "create", "big", "--members-file", file], ["room", "members", "big", "--members-file", file]] {
            let r = try s.roomkey("alice", args)
            #expect(r.code == 65, "\(args): \(r)")
            #expect(r.stderr.hasPrefix("roomkey: error: members file \(file) is too large: 300000 (limit 100000)"), "\(r)")
        }
    }
}
