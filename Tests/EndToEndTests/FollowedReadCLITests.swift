import Foundation
import Testing
@testable import RoomKeyCore
@testable import roomkey

private typealias Bundle = RoomKeyCore.Bundle

/// `receive` reads a large bundle file while another core hashes its stanza list (`FollowedRead`). Debug builds take the
/// size from which it does so from `ROOMKEY_TEST_FOLLOW_FROM`: with it at 1 byte, every file of these small rooms goes
/// that way, and each run must print, exit and store exactly what the plain read does.
@Suite struct FollowedReadCLITests {
    static let follow = ["ROOMKEY_TEST_FOLLOW_FROM": "1"]

    /// Runs `receive` as `who`, read the plain way or followed.
    static func receive(_ w: RoomWorld, _ who: String, _ args: [String], followed: Bool) throws -> Run {
        try w.s.roomkey(who, ["receive"] + args, env: ["ROOMKEY_OUTBOX": w.shared].merging(followed ? follow : [:]) { $1 })
    }

    /// Bad files: each gives the same lines and exit code both ways, and leaves bob's keyring as it was.
    @Test func badFilesFailAlikeBothWays() throws {
        try Self.badFilesFailAlike(readingWith: Self.follow)
    }

    /// Receives bad files as bob the plain way and with `env` (another way to read): the same lines, exit code and
    /// keyring (left as it was) each time.
    static func badFilesFailAlike(readingWith env: [String: String]) throws {
        let w = try RoomWorld()
        let bundle = try #require(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--json"]).json()["bundle"] as? String)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundle)))
        var flipped = good
        flipped[44 + 4 + 16 + 20] ^= 0x01  // inside the first stanza's sealed key
        var recipient = good
        recipient[44 + 4 + 3] ^= 0x01  // a recipient id: the stanza is no longer bob's, nor the signed list
        let cases: [(String, [UInt8])] = [
            ("magic only", Array("RKB\u{1}".utf8)), ("truncated", Array(good.prefix(good.count / 2))),
            ("a stanza byte flipped", flipped), ("a recipient changed", recipient), ("a byte added", good + [0]),
        ]
        let before = try w.snapshot("bob")
        for (name, bytes) in cases {
            let path = w.s.path("\(name.replacingOccurrences(of: " ", with: "-")).roomkey")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let plain = try w.s.roomkey("bob", ["receive", path], env: ["ROOMKEY_OUTBOX": w.shared])
            let other = try w.s.roomkey("bob", ["receive", path], env: ["ROOMKEY_OUTBOX": w.shared].merging(env) { $1 })
            // bob's is the only stanza: with its recipient changed the bundle is for someone else.
            #expect(plain.code != 0 || (name == "a recipient changed" && plain.stdout.hasPrefix("not-for-me")), "\(name): \(plain)")
            #expect(other.code == plain.code && other.stdout == plain.stdout && other.stderr == plain.stderr,
                    "\(name): plain \(plain)\nother \(other)")
            #expect(try w.snapshot("bob") == before, "\(name)")
        }
    }

    /// A folder of a bundle and stray files, read followed: the same report as the plain read gives (ReceiveFolderCLITests),
    /// the bundle applied once, then a duplicate.
    @Test func aFolderIsReceivedAsThePlainReadReceivesIt() throws {
        let (w, bundle) = try ReceiveFolderCLITests.world()
        try Data("roomkey-card-v1 not really\n".utf8).write(to: URL(fileURLWithPath: w.shared + "/alice.card"))
        let r = try Self.receive(w, "bob", [w.shared], followed: true)
        r.expect(exit: 0, stderr: "")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(4)) == [
            "ignored  \(w.shared)/.roomkey-tmp-0123456789abcdef: partly written (a write that has not finished)",
            "ignored  \(w.shared)/alice.card: an identity card, not a bundle (add it with 'roomkey contact add')",
            "ignored  \(w.shared)/empty: empty file",
            "ignored  \(w.shared)/notes.txt: not a roomkey file",
        ], "\(r)")
        #expect(lines.count > 4 && lines[4].hasPrefix("applied  \(bundle)  room "), "\(r)")
        #expect(lines.last == "summary: 1 applied, 4 ignored", "\(r)")
        #expect(try w.show("bob")["epoch"] as? Int == 0)
        let again = try Self.receive(w, "bob", [bundle], followed: true)
        again.expect(exit: 0, stderr: "")
        #expect(again.stdout.hasPrefix("duplicate  \(bundle)"), "\(again)")
    }

    /// Members who read followed and members who read plainly stay in step through a removal and its rotations.
    @Test func membersReadingEitherWayStayInStep() throws {
        let w = try RoomWorld()
        try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol", "--member", "dave"]).expect(exit: 0, stderr: "")
        for (who, followed) in [("bob", true), ("carol", false), ("dave", true)] {
            try Self.receive(w, who, [w.shared, "-q"], followed: followed).expect(exit: 0, stderr: "", stdout: "")
        }
        try w.rk("alice", ["room", "remove", "team", "dave", "-q"]).expect(exit: 0, stderr: "")
        for (who, followed) in [("bob", true), ("carol", false), ("alice", true), ("bob", false), ("carol", true)] {
            let r = try Self.receive(w, who, [w.shared, "-q"], followed: followed)
            #expect(r.code == 0, "\(who): \(r)")
        }
        let message = try w.rk("carol", ["encrypt", "team", "--armor"], stdin: Data("still here\n".utf8))
        #expect(message.code == 0, "\(message)")
        let read = try w.rk("bob", ["decrypt"], stdin: Data(message.stdout.utf8))
        #expect(read.code == 0 && read.stdout.contains("still here"), "\(read)")
        #expect(try w.show("bob")["epoch"] as? Int == 1)
    }
}

/// `InputFiles.readForReceive` in this process: which files it follows, and that a followed file gives the bytes and
/// the stanza hash the plain read and the parser give.
@Suite struct ReceiveReadRoutingTests {
    static func write(_ bytes: [UInt8], _ name: String, in folder: String) throws -> String {
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A version 2 bundle of `xwing` X-Wing recipients (1,185 bytes of stanza each).
    static func bundle(xwing: Int) throws -> [UInt8] {
        let random = try SystemRandom()
        let recipients = try (0..<xwing).map { _ in
            StanzaRecipient(id: IdentityID(signingKey: try SigningKeyPair.generate().publicKey),
                            sealingKey: try SealingKeyPair.generate().publicKey, xwingKey: try XWingKeyPair.generate().publicKey)
        }
        return try BundleSealer.seal(roomID: RoomID.random(using: random), epoch: 2, signer: try SigningKeyPair.generate(),
                                     recipients: recipients, content: BundleContent.encode(commits: []), random: random)
    }

    @Test func aLargeBundleIsFollowedAndAnythingElseIsReadAtOnce() throws {
        let sandbox = try Sandbox()
        let folder = sandbox.root.path
        let big = try Self.bundle(xwing: 460)  // over the 512 KiB from which `receive` follows
        #expect(big.count >= InputFiles.followedReadSize)
        let limit = RoomKeyCommand.Receive.maxBundleBytes
        guard case let .followed(read) = try InputFiles.readForReceive(try Self.write(big, "big.roomkey", in: folder), limit: limit,
                                                                       what: "bundle") else {
            Issue.record("a large bundle was not followed")
            return
        }
        let (bytes, hint) = read.bytesAndStanzaHash
        #expect(bytes == big)
        #expect(try #require(hint).hash == (try Bundle.parse(big).stanzaHash))

        // Large but not a bundle, a small bundle, and an empty file: read at once, as `read` reads them.
        let text = [UInt8](repeating: UInt8(ascii: "x"), count: 600 * 1024)
        let small = try Self.bundle(xwing: 2)
        for (name, content) in [("notes.txt", text), ("small.roomkey", small), ("empty", [])] {
            let path = try Self.write(content, name, in: folder)
            guard case let .bytes(got) = try InputFiles.readForReceive(path, limit: limit, what: "bundle") else {
                Issue.record("\(name) was followed")
                continue
            }
            #expect(got == content, "\(name)")
            #expect(got == (try InputFiles.read(path, limit: limit, what: "bundle")), "\(name)")
        }
        // From a lower size on, the small bundle is followed too; over the limit, both ways refuse before reading.
        guard case .followed = try InputFiles.readForReceive(folder + "/small.roomkey", limit: limit, what: "bundle", followFrom: 1) else {
            Issue.record("the small bundle was not followed from 1 byte")
            return
        }
        #expect(throws: InputError.self) { _ = try InputFiles.readForReceive(folder + "/small.roomkey", limit: 100, what: "bundle", followFrom: 1) }
    }
}
