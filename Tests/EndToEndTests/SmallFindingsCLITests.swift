import Foundation
import Testing
@testable import roomkey

/// The smaller findings of issue 12 (finding 10): an empty room list, plurals, NO_COLOR, and removing a contact who
/// is still a room member.
@Suite struct SmallFindingsCLITests {
    static let roomHeader = "NAME  ROOM ID                           EPOCH  MEMBERS  ROLE    NOTES"

    @Test func anEmptyRoomListPrintsItsHeaderAsContactListDoes() throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.roomkey("alice", ["room", "list"]).expect(exit: 0, stderr: "", stdout: Self.roomHeader + "\n")
        let contacts = try s.roomkey("alice", ["contact", "list"])
        contacts.expect(exit: 0, stderr: "")
        #expect(contacts.stdout.hasPrefix("NAME  ID "))
        #expect(contacts.stdout.split(separator: "\n").count == 1)
    }

    @Test func aRoomListRowSitsUnderItsHeader() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        let lines = try w.rk("alice", ["room", "list"]).stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == Self.roomHeader)
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("team  ") == true)
        #expect(lines.last?.contains("  0      2        admin ") == true, "\(lines)")
    }

    @Test func oneRecipientIsSingular() throws {
        let w = try RoomWorld()
        let r = try w.rk("alice", ["room", "create", "team", "--member", "bob"])
        #expect(r.code == 0, "\(r)")
        #expect(r.stdout.contains("(sealed to 1 recipient)"), "\(r)")
        let two = try w.rk("alice", ["room", "add", "team", "carol"])
        #expect(two.stdout.contains("(sealed to 2 recipients)"), "\(two)")
    }

    @Test func qrColoursHonourNoColor() {
        typealias V = RoomKeyCommand.Verify
        #expect(V.usesColour(isTerminal: true, environment: [:]))
        #expect(!V.usesColour(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(V.usesColour(isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!V.usesColour(isTerminal: false, environment: [:]))
    }

    @Test func removingAContactWhoIsStillAMemberSaysWhere() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        #expect(try w.rk("alice", ["room", "create", "ops", "--member", "bob", "--member", "carol"]).code == 0)
        let bobID = try #require(try w.rk("bob", ["id", "--json"]).json()["id"] as? String)
        try w.rk("alice", ["contact", "remove", "bob"]).expect(exit: 0, stderr: """
            roomkey: warning: bob is still a member of 2 rooms: "ops", "team"
            roomkey: hint: removing a contact changes no room; take them out with 'roomkey room remove ROOM \(bobID)'

            """, stdout: "removed bob\n")
        let carol = try w.rk("alice", ["contact", "remove", "carol", "--json"])
        #expect(carol.code == 0)
        let rooms = try #require(try carol.json()["still_member_of"] as? [[String: Any]])
        #expect(rooms.map { $0["name"] as? String } == ["ops"])
        try w.rk("alice", ["contact", "remove", "dave"]).expect(exit: 0, stderr: "", stdout: "removed dave\n")
    }
}

/// `--json` is often read on a terminal: a character that controls or reorders it (C1, DEL, bidi and zero-width marks,
/// line separators) in a name someone else chose leaves as a `\uXXXX` escape, the same JSON value (found by a hostile
/// review: file names with U+009B and U+202E went out raw in `receive --json`).
@Suite struct JSONHiddenCharacterTests {
    @Test func hiddenCharactersAreEscapedAndTheValueIsKept() throws {
        for name in ["a\u{9B}31mRED", "b\u{7F}c", "c\u{202E}d", "e\u{2028}f", "g\u{E0041}h"] {
            let json = Output.encode(["path": name])
            #expect(json.unicodeScalars.allSatisfy { $0.isASCII }, "\(json)")
            let back = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
            #expect(back?["path"] == name)
        }
        #expect(Output.encode(["name": "café"]) == "{\"name\":\"café\"}")
    }

    @Test func receiveJSONOfAFolderEscapesItsNames() throws {
        let w = try RoomWorld.team(["bob"])
        let folder = w.s.path("inbox")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let name = "c\u{202E}d.roomkey"
        try Data("zz".utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        let r = try w.rk("bob", ["receive", "--json", folder])
        #expect(!r.stdout.unicodeScalars.contains("\u{202E}"), "\(r)")
        #expect(r.stdout.contains("\\u202e"), "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect((results.first?["path"] as? String)?.hasSuffix(name) == true, "\(results)")
    }
}

/// An error that starts with a path keeps the path's case (found by a hostile review: `Cards/X.card` was reported as
/// `cards/X.card`, another file on a case-sensitive file system); a system sentence is still lowercased.
@Suite struct OneLineCaseTests {
    @Test func aLeadingPathKeepsItsCase() {
        #expect(Output.oneLine("Cards/X.card already exists") == "Cards/X.card already exists")
        #expect(Output.oneLine("X.card is not a roomkey keyring") == "X.card is not a roomkey keyring")
        #expect(Output.oneLine("The file could not be read.") == "the file could not be read")
        #expect(Output.oneLine("NOT lowered") == "NOT lowered")
    }

    /// A line feed in a name an error quotes is shown as `\u{a}` (docs/CLI.md), not as a space: "q z" would name another
    /// room. The JSON error holds the name as it is.
    @Test func aLineFeedInAQuotedNameIsShownEscaped() throws {
        let w = try RoomWorld()
        let r = try w.rk("alice", ["room", "show", "q\nz"])
        #expect(r.code != 0)
        #expect(r.stderr.hasPrefix(#"roomkey: error: no room named "q\u{a}z""#), "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 2, "one error line and one hint: \(r)")
        let j = try w.rk("alice", ["room", "show", "q\nz", "--json"])
        let message = try #require((try j.json()["error"] as? [String: Any])?["message"] as? String)
        #expect(message == "no room named \"q\nz\"", "\(j)")
        #expect(Output.oneLine("a\nb") == "a b" && Output.oneLine("a\nb", keepingLineFeeds: true) == "a\nb")
    }

    @Test func theCommandLineKeepsTheCaseOfAPath() throws {
        let w = try RoomWorld()
        let folder = w.s.path("Cards")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/X.card"))
        let r = try w.rk("alice", ["id", "export", "-o", folder + "/X.card"])
        #expect(r.code == 6 && r.stderr.contains("/Cards/X.card"), "\(r)")
    }
}

/// Audit entries name a room by its quoted name and its id: a name chosen by the room's creator (`payroll epoch 9 by
/// <id>: remove, remove`) read as the rest of an entry, and two rooms of one name could not be told apart (found by a
/// hostile review).
@Suite struct AuditRoomNameTests {
    @Test func aRoomNameIsQuotedWithItsID() throws {
        let w = try RoomWorld()
        let name = "payroll epoch 9 by \"x\": remove, remove (published)"
        #expect(try w.rk("bob", ["room", "create", name, "--member", "alice"]).code == 0)
        try w.exchange()
        let id = try #require(try w.rk("alice", ["room", "show", name, "--json"]).json()["room_id"] as? String)
        let entries = try #require(try w.rk("alice", ["audit", "--json"]).json()["entries"] as? [[String: Any]])
        let details = entries.compactMap { $0["detail"] as? String }.filter { $0.contains("payroll") }
        #expect(!details.isEmpty)
        for d in details {
            #expect(d.hasPrefix("\"payroll epoch 9 by \\\"x\\\": remove, remove (published)\" (\(id))"), "\(d)")
        }
    }

    /// A contact's name is its card's handle unless given: it is quoted too.
    @Test func aContactNameIsQuoted() throws {
        let w = try RoomWorld()
        let entries = try #require(try w.rk("alice", ["audit", "--json"]).json()["entries"] as? [[String: Any]])
        let added = entries.filter { $0["event"] as? String == "contact-add" }.compactMap { $0["detail"] as? String }
        #expect(!added.isEmpty && added.allSatisfy { $0.hasPrefix("\"") }, "\(added)")
    }
}
