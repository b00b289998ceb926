import Foundation
import Testing

/// A file planted in a shared folder under a batch output's name stops that message alone (a hostile review: one
/// planted file refused the whole batch before anything was read).
@Suite struct BatchPlantedOutputCLITests {
    @Test func aPlantedFileNamedLikeAnOutputRefusesOnlyItsMessage() throws {
        let w = try RoomWorld.team(["bob"])
        let dir = w.s.path("inbox")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in 1...2 {
            try Data(try w.bytes(try w.send("alice", Array("msg \(i)".utf8)))).write(to: URL(fileURLWithPath: dir + "/n\(i).msg"))
        }
        try Data("junk".utf8).write(to: URL(fileURLWithPath: dir + "/n2"))
        let r = try w.run("bob", ["decrypt", "--json", dir])
        #expect(r.code != 0 && r.code != 64, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        let byPath = Dictionary(uniqueKeysWithValues: results.compactMap { e in (e["path"] as? String).map { ($0, e) } })
        #expect(byPath[dir + "/n1.msg"]?["status"] as? String == "ok", "\(r)")
        #expect(try w.bytes(dir + "/n1") == Array("msg 1".utf8))
        #expect(byPath[dir + "/n2.msg"]?["status"] as? String == "refused", "\(r)")
        #expect((byPath[dir + "/n2.msg"]?["error"] as? String)?.contains("would replace an input") == true, "\(r)")
        #expect(try w.bytes(dir + "/n2") == Array("junk".utf8), "the planted file is left as it was")
        // Nothing was read for the refused message: it decrypts once the planted file is gone.
        try FileManager.default.removeItem(atPath: dir + "/n2")
        let again = try w.run("bob", ["decrypt", dir + "/n2.msg", "-o", dir + "/n2"])
        #expect(again.code == 0, "\(again)")
        #expect(try w.bytes(dir + "/n2") == Array("msg 2".utf8))
    }

    @Test func twoInputsWithOneOutputRefuseTheSecond() throws {
        let w = try RoomWorld.team(["bob"])
        let a = w.s.path("a"), b = w.s.path("b")
        for dir in [a, b] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try Data(try w.bytes(try w.send("alice", Array("one".utf8)))).write(to: URL(fileURLWithPath: a + "/x.msg"))
        try Data(try w.bytes(try w.send("alice", Array("two".utf8)))).write(to: URL(fileURLWithPath: b + "/x.msg"))
        let out = w.s.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let r = try w.run("bob", ["decrypt", "--json", a + "/x.msg", b + "/x.msg", "-o", out])
        #expect(r.code == 6, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["ok", "refused"], "\(r)")
        #expect(try w.bytes(out + "/x") == Array("one".utf8))
    }
}
