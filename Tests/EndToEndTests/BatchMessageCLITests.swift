import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// The batch forms of `encrypt` and `decrypt`: many files in one run and few keyring transactions.
@Suite struct BatchMessageCLITests {
    /// alice's messages `m1.msg`... in a fresh folder, the second one tampered with; returns the folder and paths.
    func threeMessages(_ w: RoomWorld) throws -> (dir: String, paths: [String]) {
        let dir = w.s.path("in-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 1...3 {
            var bytes = try w.bytes(try w.send("alice", Array("plaintext \(i)".utf8)))
            if i == 2 { bytes[bytes.count - 70] ^= 1 }
            let path = dir + "/m\(i).msg"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        return (dir, paths)
    }

    @Test func decryptIntoAFolderReportsTheTamperedFileAndWritesTheOthers() throws {
        let w = try RoomWorld.team(["bob"])
        let (_, paths) = try threeMessages(w)
        let out = w.s.path("plain")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let r = try w.run("bob", ["decrypt", "-o", out] + paths)
        #expect(r.code == 2, "\(r)")
        #expect(try w.bytes(out + "/m1") == Array("plaintext 1".utf8))
        #expect(try w.bytes(out + "/m3") == Array("plaintext 3".utf8))
        #expect(!FileManager.default.fileExists(atPath: out + "/m2"))
        #expect(r.stdout.contains("ok  \(paths[0]) -> \(out)/m1  from \"alice\" ("), "\(r)")
        // The sender's and the room's short ids stand beside the names someone else chose (a review found two senders
        // named "bob" in two rooms named "team" read the same).
        let alice = try #require(try w.run("alice", ["id", "--json"]).json()["id"] as? String)
        #expect(r.stdout.contains("from \"alice\" (\(alice.prefix(8))) in room \"team\" ("), "\(r)")
        #expect(r.stdout.contains("rejected  \(paths[1]): "), "\(r)")
        #expect(r.stderr.contains("roomkey: error: \(paths[1]): "), "\(r)")

        // Again over the same files: nothing is decrypted twice, and nothing is written.
        for name in ["m1", "m3"] { try FileManager.default.removeItem(atPath: out + "/" + name) }
        let again = try w.run("bob", ["decrypt", "--json", "-o", out] + paths)
        #expect(again.code == 2, "\(again)")
        let results = try #require(try again.json()["results"] as? [[String: Any]])
        // m1 and m3 were read already (refused by a rule); m2 is still the tampered one (rejected), the worst code.
        #expect(results.map { $0["status"] as? String } == ["refused", "rejected", "refused"], "\(again)")
        #expect((results[0]["error"] as? String)?.contains("replayed message") == true, "\(again)")
        #expect((results[2]["error"] as? String)?.contains("replayed message") == true, "\(again)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        // An existing output is refused before its message is read; with --force the message is read (a replay).
        try Data("keep".utf8).write(to: URL(fileURLWithPath: out + "/m3"))
        let refused = try w.run("bob", ["decrypt", "--json", "-o", out, paths[2]])
        #expect(refused.code == 6, "\(refused)")
        #expect((try refused.json()["results"] as? [[String: Any]])?.first?["status"] as? String == "refused")
        let forced = try w.run("bob", ["decrypt", "--json", "--force", "-o", out, paths[2]])
        let third = try #require(try forced.json()["results"] as? [[String: Any]])
        #expect(third.first?["status"] as? String == "refused" && forced.code == 6, "\(forced)")
        #expect(try w.bytes(out + "/m3") == Array("keep".utf8))
    }

    @Test func decryptWithASuffixGivesOneJSONRecordPerFile() throws {
        let w = try RoomWorld.team(["bob"])
        let (_, paths) = try threeMessages(w)
        let r = try w.run("bob", ["decrypt", "--json", "--suffix", ".txt"] + paths)
        #expect(r.code == 2, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["path"] as? String } == paths)
        #expect(results.map { $0["status"] as? String } == ["ok", "rejected", "ok"])
        #expect(results[0]["output"] as? String == paths[0] + ".txt")
        #expect(results[0]["sender_handle"] as? String == "alice")
        #expect(results[0]["name"] as? String == "team")
        #expect(results[0]["iteration"] as? Int == 0)
        #expect(results[2]["iteration"] as? Int == 2)
        #expect(results[1]["output"] == nil && results[1]["error"] is String)
        #expect(try w.bytes(paths[0] + ".txt") == Array("plaintext 1".utf8))
        #expect(try w.bytes(paths[2] + ".txt") == Array("plaintext 3".utf8))
        #expect(!FileManager.default.fileExists(atPath: paths[1] + ".txt"))
        // The default name: the message's name without .msg, beside it.
        let more = try w.send("alice", Array("four".utf8))
        let named = w.s.path("four.msg")
        try FileManager.default.moveItem(atPath: more, toPath: named)
        let two = try w.run("bob", ["decrypt", "-q", named, paths[1]])
        #expect(two.code == 2, "\(two)")
        #expect(try w.bytes(w.s.path("four")) == Array("four".utf8))
    }

    @Test func batchArgumentsAreCheckedBeforeAnything() throws {
        let w = try RoomWorld.team(["bob"])
        let (_, paths) = try threeMessages(w)
        let notFolder = try w.run("bob", ["decrypt", "-o", w.s.path("missing/")] + paths)
        #expect(notFolder.code == 64, "\(notFolder)")
        let stdin = try w.run("bob", ["decrypt", "-", paths[0]])
        #expect(stdin.code == 64, "\(stdin)")
        // Nothing was decrypted by those runs.
        let r = try w.run("bob", ["decrypt", "--suffix", ".out", paths[0]])
        #expect(r.code == 0, "\(r)")
    }

    @Test func encryptSeveralFilesThenAnotherMemberDecryptsThemInOneRun() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let dir = w.s.path("plain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let files = try (1...3).map { i -> String in
            let path = dir + "/f\(i)"
            try Data("file \(i)".utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let e = try w.run("alice", ["encrypt", "team", "--json"] + files + [dir + "/missing"])
        #expect(e.code == 4, "\(e)")
        let records = try #require(try e.json()["results"] as? [[String: Any]])
        #expect(records.map { $0["status"] as? String } == ["ok", "ok", "ok", "not-found"])
        #expect(records.map { $0["iteration"] as? Int } == [0, 1, 2, nil])
        #expect(records[0]["output"] as? String == files[0] + ".msg")
        let out = w.s.path("bob-out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let d = try w.run("bob", ["decrypt", "-o", out] + files.map { $0 + ".msg" })
        #expect(d.code == 0, "\(d)")
        for i in 1...3 { #expect(try w.bytes(out + "/f\(i)") == Array("file \(i)".utf8)) }
        // Armored into a folder, read by carol one by one.
        let armored = w.s.path("armored")
        try FileManager.default.createDirectory(atPath: armored, withIntermediateDirectories: true)
        let a = try w.run("alice", ["encrypt", "team", "--armor", "-o", armored, files[0]])
        #expect(a.code == 0, "\(a)")
        #expect(String(decoding: try w.bytes(armored + "/f1.msg"), as: UTF8.self).hasPrefix("roomkey-message-v1:"))
        let (c, plain) = try w.receiveMessage("carol", armored + "/f1.msg")
        #expect(c.code == 0 && plain == Array("file 1".utf8), "\(c)")
        // An existing output is refused unless --force, and then its iteration is not used.
        let refused = try w.run("alice", ["encrypt", "team", "-o", armored, files[0]])
        #expect(refused.code == 6, "\(refused)")
        let forced = try w.run("alice", ["encrypt", "team", "--json", "--force", "-o", armored, files[0]])
        #expect((try forced.json()["results"] as? [[String: Any]])?.first?["iteration"] as? Int == 4, "\(forced)")
    }

    @Test func encryptRotatesBetweenMessagesOfOneBatchWhenThePolicySaysSo() throws {
        let w = try RoomWorld.team(["bob"])
        #expect(try w.run("alice", ["room", "set", "team", "--rotate-messages", "2", "-q"]).code == 0)
        let files = try (1...5).map { try w.file(Array("rotating \($0)".utf8), "r\($0)") }
        let before = Set(try w.bundles())
        let e = try w.run("alice", ["encrypt", "team", "--json"] + files)
        #expect(e.code == 0, "\(e)")
        let records = try #require(try e.json()["results"] as? [[String: Any]])
        #expect(records.map { $0["generation"] as? Int } == [0, 0, 1, 1, 2], "\(e)")
        #expect(records.map { $0["iteration"] as? Int } == [0, 1, 0, 1, 0], "\(e)")
        let bundles = records.compactMap { $0["bundle"] as? String }
        let made = Set(try w.bundles()).subtracting(before)
        #expect(bundles.count == 2 && made == Set(bundles), "\(e)")
        #expect(try w.run("bob", ["receive", "-q"] + bundles).code == 0)
        // Without -o or --suffix, r1.msg would be written to r1, which exists: refused, and nothing is used up.
        let refused = try w.run("bob", ["decrypt", "-q"] + files.map { $0 + ".msg" })
        #expect(refused.code == 6, "\(refused)")
        let d = try w.run("bob", ["decrypt", "--json", "--suffix", ".out"] + files.map { $0 + ".msg" })
        #expect(d.code == 0, "\(d)")
        let decrypted = try #require(try d.json()["results"] as? [[String: Any]])
        #expect(decrypted.map { $0["output"] as? String } == files.map { $0 + ".msg.out" })
        for i in 1...5 { #expect(try w.bytes(w.s.path("r\(i).msg.out")) == Array("rotating \(i)".utf8)) }
    }

    @Test func longFileListsKeepTheirOrderAndAFolderStandsForItsFiles() throws {
        let w = try RoomWorld.team(["bob"])
        let dir = w.s.path("many")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let files = try (0..<150).map { i -> String in
            let path = dir + String(format: "/p%03d", i)
            try Data("many \(i)".utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let enc = w.s.path("many-enc")
        try FileManager.default.createDirectory(atPath: enc, withIntermediateDirectories: true)
        let e = try w.run("alice", ["encrypt", "-o", enc, "team", "--json"] + files.reversed())
        #expect(e.code == 0, "\(e)")
        let records = try #require(try e.json()["results"] as? [[String: Any]])
        #expect(records.map { $0["path"] as? String } == files.reversed())
        #expect(records.map { $0["iteration"] as? Int } == Array(0..<150))
        let out = w.s.path("many-out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let d = try w.run("bob", ["decrypt", "--json", "-o", out, enc])
        #expect(d.code == 0, "\(d)")
        let decrypted = try #require(try d.json()["results"] as? [[String: Any]])
        #expect(decrypted.map { $0["iteration"] as? Int } == Array((0..<150).reversed()))
        for i in [0, 77, 149] { #expect(try w.bytes(out + String(format: "/p%03d", i)) == Array("many \(i)".utf8)) }
    }

    @Test func aBatchOf250MessagesUsesThreeTransactionsAndChainsEachSenderKey() throws {
        let w = try RoomWorld.team(["bob", "carol"])
        let alice = try w.keyring("alice"), carol = try w.keyring("carol")
        var wire: [[UInt8]] = []
        for start in stride(from: 0, to: 200, by: 100) {
            let plaintexts = (start..<(start + 100)).map { Array("alice \($0)".utf8) }
            wire += try alice.encryptBatch(room: "team", plaintexts: plaintexts) { _ in "" }.map(\.bytes)
        }
        wire += try carol.encryptBatch(room: "team", plaintexts: (0..<50).map { Array("carol \($0)".utf8) }) { _ in "" }.map(\.bytes)
        // Interleave the two senders, out of order within each, with one replay inside the batch.
        var order = Array(0..<250).shuffled()
        order.insert(order[10], at: 200)
        order.insert(order[3], at: 60)
        let bob = try w.keyring("bob")
        _ = try bob.decryptBatch([])  // the automatic prune, which may write, runs here
        let before = bob.committedWrites
        let results = try bob.decryptBatch(try order.map { try RoomMessage.parse(wire[$0]) })
        #expect(bob.committedWrites - before == 3)
        var seen = Set<Int>()
        for (i, result) in zip(order, results) {
            let expected = i < 200 ? "alice \(i)" : "carol \(i - 200)"
            if seen.insert(i).inserted {
                let got = try result.get()
                #expect(got.plaintext.withUnsafeBytes { Array($0) } == Array(expected.utf8))
                #expect(got.origin.senderHandle == (i < 200 ? "alice" : "carol"))
            } else {
                #expect(throws: MessageError.self) { try result.get() }
            }
        }
        // Everything was committed: each message is now a replay.
        let again = try bob.decryptBatch(try [0, 199, 249].map { try RoomMessage.parse(wire[$0]) })
        for result in again {
            #expect(throws: MessageError.self) { try result.get() }
        }
    }

    @Test func aBatchRemovesAKilledRunsTemporaryFileOnceAndLeavesOnlyItsOutputs() throws {
        let w = try RoomWorld.team(["bob"])
        let dir = w.s.path("many")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in 0..<130 {
            try Data(try w.bytes(try w.send("alice", Array("note \(i)".utf8)))).write(to: URL(fileURLWithPath: dir + "/n\(i).msg"))
        }
        let out = w.s.path("notes")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // A killed run's file (nobody holds its lock) and a live writer's (this process holds it).
        let killed = out + "/.roomkey-tmp-0123456789abcdef"
        try Data("half".utf8).write(to: URL(fileURLWithPath: killed))
        let live = out + "/.roomkey-tmp-fedcba9876543210"
        let fd = open(live, O_RDWR | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)
        let r = try w.run("bob", ["decrypt", "-q", "-o", out, dir])
        #expect(r.code == 0, "\(r)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names == ([".roomkey-tmp-fedcba9876543210"] + (0..<130).map { "n\($0)" }).sorted(), "\(names)")
        #expect(try w.bytes(out + "/n129") == Array("note 129".utf8))
    }
}
