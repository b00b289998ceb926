import Foundation
import Testing

/// Batch `encrypt`/`decrypt` and symbolic links (a hostile review): an output name made from an input's is never
/// written through a link (a link planted beside a message chose where its plaintext went, creating any file the user
/// may write), and a folder's links are not read (a link planted in a shared folder pulled a secret file into the room).
@Suite struct BatchSymlinkCLITests {
    @Test func aLinkAtABatchOutputIsRefusedNotFollowed() throws {
        let w = try RoomWorld.team(["bob"])
        let dir = w.s.path("shared-msgs")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(try w.bytes(try w.send("alice", Array("secret plan".utf8)))).write(to: URL(fileURLWithPath: dir + "/x.msg"))
        let planted = w.s.path("planted-target")
        try FileManager.default.createSymbolicLink(atPath: dir + "/x", withDestinationPath: planted)
        for force in [false, true] {
            let r = try w.run("bob", ["decrypt", "--json", dir] + (force ? ["--force"] : []))
            #expect(r.code == 6, "\(r)")
            let result = try #require((try r.json()["results"] as? [[String: Any]])?.first)
            #expect(result["status"] as? String == "refused" && (result["error"] as? String)?.contains("symbolic link") == true, "\(r)")
            #expect(!FileManager.default.fileExists(atPath: planted), "nothing was written through the link")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/x")) == planted)
        }
        // The refusal came before the message was read: it is not spent, and decrypts once the link is gone.
        try FileManager.default.removeItem(atPath: dir + "/x")
        let again = try w.run("bob", ["decrypt", dir])
        #expect(again.code == 0 && (try? w.bytes(dir + "/x")) == Array("secret plan".utf8), "\(again)")
    }

    @Test func aFoldersLinksAreNotEncrypted() throws {
        let w = try RoomWorld.team(["bob"])
        let secret = w.s.path("secret.txt")
        try Data("passphrase".utf8).write(to: URL(fileURLWithPath: secret))
        let dir = w.s.path("outgoing")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/note.txt"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/lnk", withDestinationPath: secret)
        let out = w.s.path("sealed")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let r = try w.run("alice", ["encrypt", "team", dir, "-o", out, "--json"])
        #expect(r.code == 0, "\(r)")
        let results = try #require(try r.json()["results"] as? [[String: Any]])
        #expect(results.compactMap { $0["path"] as? String } == [dir + "/note.txt"], "\(r)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["note.txt.msg"])
        // A link named on the command line is the user's own choice, and is followed as before.
        let named = try w.run("alice", ["encrypt", "team", dir + "/lnk", "-o", w.s.path("named.msg")])
        #expect(named.code == 0, "\(named)")
    }
}
