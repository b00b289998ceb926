import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// A file is received from the remote only at the path its header names (PROTOCOL §9.1). An independent implementation
/// found only the room and epoch checked: alice's key copied under bob's name was applied from there, and the copy at
/// alice's own path became a duplicate; a re-sent name's digest was not checked; a leave request was read from any path.
@Suite struct GitPlacementCLITests {
    @Test func aKeyUnderAnotherMembersNameOrDigestIsRefusedAndTheRightCopyApplied() throws {
        let (w, room, alice, original, bytes) = try GitMirrorSafetyTests.alicesRotatedKey()
        let bob = try #require(try w.rk("bob", ["id", "--json"]).json()["id"] as? String)
        let folder = (original as NSString).deletingLastPathComponent
        let epoch = (folder as NSString).lastPathComponent
        // Names sorted before alice's own: read first, each would have made her copy a duplicate.
        let underBob = "\(folder)/\(bob)-9.roomkey"
        let wrongDigest = "rooms/\(room)/resent/\(epoch)/\(alice)-0000000000000000.roomkey"
        let wrongX = "\(folder)/\(alice)-x0000000000000000.roomkey"
        try w.tamper([underBob: bytes, wrongDigest: bytes, wrongX: bytes])
        let report = try GitMirrorSafetyTests.sync(w, "carol", fileLimit: Bundle.maxLength)
        func result(_ path: String) -> ReceiveResult? { report.received.first { $0.path == "origin:\(path)" } }
        #expect(result(underBob)?.status == .rejected, "\(report.received)")
        #expect(result(underBob)?.error?.message.contains("another sender than its path") == true, "\(String(describing: result(underBob)))")
        #expect(result(wrongDigest)?.status == .rejected && result(wrongX)?.status == .rejected, "\(report.received)")
        #expect(result(wrongDigest)?.error?.message.contains("the digest in its name") == true)
        #expect(result(original)?.status == .applied, "the copy at alice's own path is the one received: \(report.received)")
    }

    @Test func aLeaveRequestIsReadOnlyFromItsOwnPath() throws {
        let w = try GitSyncCLITests.team()
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let dave = try #require(try w.rk("dave", ["id", "--json"]).json()["id"] as? String)
        let left = try w.rk("carol", ["room", "leave", "team"])
        #expect(left.code == 0, "\(left)")
        // Through a remote, any admin's sync acts on it: the line no longer sends it to one admin.
        #expect(left.stdout.contains("published by your next 'roomkey sync origin'; the first admin to sync removes you"), "\(left)")
        try w.sync("carol")
        let path = try #require(try w.remoteFiles().first { $0.hasPrefix("rooms/\(room)/leave/") })
        let bytes = try GitWorld.blobBytes(w, path)
        let epoch = String(((path as NSString).lastPathComponent).dropLast(".roomkey".count).split(separator: "-").last ?? "")
        // carol's request moved under dave's name, and into keys/: each would have removed carol from there.
        let underDave = "rooms/\(room)/leave/\(dave)-\(epoch).roomkey"
        let inKeys = "rooms/\(room)/keys/\(epoch)/\(dave)-7.roomkey"
        try w.tamper([path: nil, underDave: bytes, inKeys: bytes])
        let first = try w.sync("alice")
        let received = first["received"] as? [[String: Any]] ?? []
        func status(_ p: String) -> String? { received.first { $0["path"] as? String == "origin:\(p)" }?["status"] as? String }
        #expect(status(underDave) == "rejected" && status(inKeys) == "rejected", "\(received)")
        #expect((first["published"] as? [Any])?.isEmpty == true, "nothing acted on carol's request from another path: \(first)")
        // At its own path again, it is acted on.
        try w.tamper([path: bytes])
        let admin = try w.sync("alice")
        #expect((admin["published"] as? [[String: Any]])?.first?["operations"] != nil, "\(admin)")
        let members = try #require(try w.show("alice")["members"] as? [[String: Any]]).compactMap { $0["handle"] as? String }
        #expect(!members.contains("carol"), "\(members)")
    }

    /// Review s: a request withdrawn (`room rejoin`) and made again at the same epoch replaces the member's own
    /// earlier one without the warning that another's bytes were at its path; junk there still gets it.
    @Test func aMembersOwnEarlierLeaveRequestIsReplacedWithoutAWarning() throws {
        let w = try GitSyncCLITests.team()
        #expect(try w.rk("carol", ["room", "leave", "team"]).code == 0)
        try w.sync("carol")
        #expect(try w.rk("carol", ["room", "rejoin", "team"]).code == 0)
        // Made later (a request carries its time): other bytes at the same path.
        #expect(try w.rk("carol", ["room", "leave", "team"], env: ["ROOMKEY_TEST_NOW": "2000000000"]).code == 0)
        let quiet = try w.rk("carol", ["sync", "--json"])
        #expect(quiet.code == 0 && !quiet.stderr.contains("held other bytes"), "\(quiet)")
        #expect((try quiet.json()["replaced"] as? [Any])?.isEmpty == true, "\(quiet)")
        // Junk at the same path is still reported.
        let room = try #require(try w.show("alice")["room_id"] as? String)
        let path = try #require(try w.remoteFiles().first { $0.hasPrefix("rooms/\(room)/leave/") })
        try w.tamper([path: Array("junk".utf8)])
        let loud = try w.rk("carol", ["sync", "--json"])
        #expect(loud.code == 0 && loud.stderr.contains("held other bytes"), "\(loud)")
        #expect((try loud.json()["replaced"] as? [Any])?.count == 1, "\(loud)")
    }
}
