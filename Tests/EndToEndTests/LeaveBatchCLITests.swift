import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Leave requests that arrive together: the admin removes every member who asked in one commit per room, sealed once
/// to the members who stay, instead of a commit (and a bundle to everyone left) per request.
@Suite struct LeaveBatchCLITests {
    @Test func requestsReceivedTogetherAreOneCommitPerRoom() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "create", "pair", "--member", "bob"]).code == 0)
        try w.exchange()
        var requests: [String: String] = [:]
        for (who, room) in [("bob", "team"), ("carol", "team"), ("bob", "pair")] {
            let leave = try w.rk(who, ["room", "leave", room, "--json"])
            #expect(leave.code == 0, "\(leave)")
            requests["\(who)-\(room)"] = try #require(try leave.json()["bundle"] as? String)
        }
        // bob's request for team given twice (another copy of the same file) in the same run.
        let copy = w.s.path("bob-team-again.roomkey")
        try FileManager.default.copyItem(atPath: try #require(requests["bob-team"]), toPath: copy)
        let inputs = [requests["bob-team"], requests["carol-team"], copy, requests["bob-pair"]].compactMap { $0 }
        let run = try w.rk("alice", ["receive", "--json"] + inputs)
        #expect(run.code == 0, "\(run)")
        let results = try #require(try run.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["applied", "applied", "duplicate", "applied"])
        let bundles = results.map { ($0["bundles"] as? [String]) ?? [] }
        // team: both requests name the one bundle of the one new commit; pair: a bundle of its own.
        #expect(bundles[0].count == 1)
        #expect(bundles[0] == bundles[1])
        #expect(bundles[2].isEmpty)
        #expect(bundles[3].count == 1 && bundles[3] != bundles[0])
        let alice = try w.keyring("alice")
        #expect(try alice.room("team").state.epoch == 1)
        #expect(try alice.room("pair").state.epoch == 1)
        let bobID = try w.keyring("bob").identityCard().id, carolID = try w.keyring("carol").identityCard().id
        let teamID = try alice.room("team").id
        let log = try alice.read { db in try alice.storedLog(db, teamID, through: 1) }
        #expect(log[1].operations == [.remove(bobID), .remove(carolID)])
        // dave, who stays, takes the one bundle and sees the same room.
        #expect(try w.rk("dave", ["receive", bundles[0][0]]).code == 0)
        let members = (try w.show("dave")["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
        #expect(members.sorted() == ["alice", "dave"])
        // The same requests again: both members are gone already.
        let again = try w.rk("alice", ["receive", "--json", requests["bob-team"] ?? "", requests["carol-team"] ?? ""])
        #expect(try (again.json()["results"] as? [[String: Any]])?.map { $0["status"] as? String } == ["duplicate", "duplicate"])
    }

    /// A member's request handed to both admins of a room without a remote: each removed the member in its own
    /// commit of the same epoch, a fork that no admin could mend for the members on the other branch (a review found
    /// it; `room leave` even said the request went "to the admins"). Only the admin with the lowest id acts now; the
    /// other reports the request as not for it, with that admin's id, and every member ends on one head.
    @Test func aRequestGivenToTwoAdminsIsActedOnByOne() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.exchange()
        let leave = try w.rk("carol", ["room", "leave", "team"])
        #expect(leave.code == 0, "\(leave)")
        let ids = try ["alice", "bob"].map { try w.keyring($0).identityCard().id }
        let designated = ids.min()
        let handle = designated == ids[0] ? "alice" : "bob"
        #expect(leave.stdout.contains("give it to admin \(handle) ("), "\(leave)")
        let path = try #require(leave.stdout.split(separator: "\n").first { $0.hasPrefix("leave request: ") }?
            .dropFirst("leave request: ".count).split(separator: " ").first.map(String.init))
        var statuses: [String: String] = [:]
        for admin in ["alice", "bob"] {
            let r = try w.rk(admin, ["receive", "--json", path])
            #expect(r.code == 0, "\(r)")
            statuses[admin] = try (r.json()["results"] as? [[String: Any]])?.first?["status"] as? String
        }
        let other = handle == "alice" ? "bob" : "alice"
        #expect(statuses == [handle: "applied", other: "not-for-me"], "\(statuses)")
        try w.exchange()
        var heads: Set<String> = []
        for p in ["alice", "bob", "dave"] {
            let show = try w.show(p)
            #expect(show["forked"] as? Bool == false, "\(p)")
            #expect(show["epoch"] as? Int == 2, "\(p)")
            heads.insert(show["head"] as? String ?? "")
            let members = (show["members"] as? [[String: Any]] ?? []).compactMap { $0["handle"] as? String }
            #expect(members.sorted() == ["alice", "bob", "dave"], "\(p)")
        }
        #expect(heads.count == 1)
        // Scripts read the admin from --json (a review found only the text named it).
        let dave = try w.rk("dave", ["room", "leave", "team", "--json", "-o", w.s.path("dave-leave.roomkey")]).json()
        #expect(dave["admin_id"] as? String == designated?.hex && dave["admin_handle"] as? String == handle, "\(dave)")
    }

    /// An admin who applies another admin's commit and a leave request in one run sends its removal commit only: that
    /// bundle carries its new sender key, so no sender-key bundle for the epoch in between (PROTOCOL 5.3; a hostile
    /// review found both, the first sealed to the member who had just left).
    @Test func aRemovalInTheSameRunIsTheOnlyBundle() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).code == 0)
        try w.exchange()
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        try w.exchange()
        // The request's designated admin (the lower id of the two) receives the other admin's commit with it.
        let (low, high) = try w.keyring("alice").identityCard().id < w.keyring("bob").identityCard().id ? ("alice", "bob") : ("bob", "alice")
        let request = try #require(try w.rk("dave", ["room", "leave", "team", "--json"]).json()["bundle"] as? String)
        let promotion = try #require(try w.rk(high, ["room", "promote", "team", "carol", "--json"]).json()["bundle"] as? String)
        let before = Set(try w.bundles())
        let run = try w.rk(low, ["receive", "--json", promotion, request])
        #expect(run.code == 0, "\(run)")
        let results = try #require(try run.json()["results"] as? [[String: Any]], "\(run)")
        #expect(results.map { $0["status"] as? String } == ["applied", "applied"])
        let written = Set(try w.bundles()).subtracting(before)
        #expect(written.count == 1, "\(low) wrote \(written.sorted())")
        #expect(results.last?["bundles"] as? [String] == written.sorted(), "\(run)")
        #expect(try w.keyring(low).room("team").state.epoch == 3)
    }

    /// When the one commit cannot be made (here the room is marked forked at the admin), every accepted request of the
    /// room is refused, a repeat of one too: nothing was removed, so none of them is settled.
    @Test func aRepeatOfARefusedRemovalIsRefusedToo() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        try w.exchange()
        let request = try #require(try w.rk("bob", ["room", "leave", "team", "--json"]).json()["bundle"] as? String)
        let copy = w.s.path("bob-again.roomkey")
        try FileManager.default.copyItem(atPath: request, toPath: copy)
        let alice = try w.keyring("alice")
        let id = try alice.room("team").id
        try alice.write { db in
            try alice.markFork(db, id, ForkEvidence(epoch: 0, ours: [UInt8](repeating: 1, count: 32), theirs: [UInt8](repeating: 2, count: 32)))
        }
        let run = try w.rk("alice", ["receive", "--json", request, copy])
        let results = try #require(try run.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["rejected", "rejected"], "\(run)")
        #expect(try w.keyring("alice").room("team").state.epoch == 0)
    }
}
