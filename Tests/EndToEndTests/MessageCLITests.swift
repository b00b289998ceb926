import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// Room messages end to end: encrypt and decrypt through the binary, with two and four members.
@Suite struct MessageCLITests {
    @Test func twoMembersExchangeEmptyTinyAndLargeMessages() throws {
        let w = try RoomWorld.team(["bob"])
        let large = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for plain in [[], [0x42], large] {
            let path = try w.send("alice", plain)
            let (r, got) = try w.receiveMessage("bob", path)
            #expect(r.code == 0, "\(r)")
            #expect(got == plain)
            #expect(r.stderr.contains("from \"alice\" ("))
            let (again, none) = try w.receiveMessage("bob", path)
            #expect(again.code == 6, "replay: \(again)")
            #expect(again.stderr.contains("replayed message"))
            #expect(none == nil)
        }
        // Armored, on standard output, and from bob to alice with --json.
        let r = try w.run("bob", ["encrypt", "team", "--armor"], stdin: Data("hello alice\n".utf8))
        #expect(r.code == 0, "\(r)")
        #expect(r.stdout.hasPrefix("roomkey-message-v1:"))
        let json = try w.run("alice", ["decrypt", "--json"], stdin: Data(r.stdout.utf8)).json()
        #expect(json["plaintext_base64"] as? String == Data("hello alice\n".utf8).base64EncodedString())
        #expect(json["sender_id"] as? String == (try w.keyring("bob").identityCard().id.hex))
        #expect(json["room_id"] as? String == (try w.keyring("alice").room("team").id.hex))
        #expect(json["epoch"] as? Int == 0)
        #expect(json["iteration"] as? Int == 0)
        let plain = try w.run("alice", ["decrypt", "-q"], stdin: Data(try w.run("bob", ["encrypt", "team", "--armor"], stdin: Data("again".utf8)).stdout.utf8))
        #expect(plain.code == 0 && plain.stdout == "again" && plain.stderr.isEmpty, "\(plain)")
        let doc = try w.run("bob", ["encrypt", "team", "--json"], stdin: Data("x".utf8)).json()
        #expect(doc["iteration"] as? Int == 2)
        #expect((doc["message"] as? String)?.hasPrefix("roomkey-message-v1:") == true)
    }

    @Test func fourMembersDecryptAHundredMessagesInRandomOrder() throws {
        let w = try RoomWorld.team()
        // alice's 100 messages are made through the library (as `encrypt` does), to keep the test fast.
        let alice = try w.keyring("alice")
        let messages = try (0..<100).map { i -> [UInt8] in
            try alice.encrypt(room: "team", plaintext: Array("message \(i)".utf8), deliverBundle: { _ in "" }) { _ in }.bytes
        }
        // bob and carol each decrypt all of them in their own random order, then a replay of each is refused.
        // (Through the library, which is exactly what `decrypt` runs, to keep the test fast; the binary follows.)
        for who in ["bob", "carol"] {
            let ring = try w.keyring(who)
            for i in Array(0..<100).shuffled() {
                var got: [UInt8] = []
                let origin = try ring.decrypt(try RoomMessage.parse(messages[i])) { _, plain in got = plain.withUnsafeBytes { Array($0) } }
                #expect(got == Array("message \(i)".utf8))
                #expect(origin.iteration == UInt32(i) && origin.senderHandle == "alice")
            }
            guard who == "bob" else { continue }
            for i in 0..<100 {
                #expect(throws: MessageError.replay(iteration: UInt32(i))) { try ring.decrypt(try RoomMessage.parse(messages[i])) { _, _ in } }
            }
        }
        // The binary: a fresh alice message for everyone, then replays of old ones print nothing.
        let last = try w.send("alice", Array("through the binary".utf8))
        for who in ["bob", "carol", "dave"] {
            let json = try w.run(who, ["decrypt", "--json", last]).json()
            #expect(json["plaintext_base64"] as? String == Data("through the binary".utf8).base64EncodedString())
            #expect(json["iteration"] as? Int == 100)
        }
        for i in [0, 37, 99] {
            let r = try w.run("bob", ["decrypt", try w.file(messages[i], "m\(i).bin")])
            #expect(r.code == 6 && r.stdout.isEmpty, "replay \(i): \(r)")
        }
    }

    @Test func removalCutsTheRemovedMemberOff() throws {
        let w = try RoomWorld.team()
        let before = try w.send("alice", Array("before".utf8))
        let carolBefore = try w.send("carol", Array("carol before".utf8))
        #expect(try w.run("alice", ["room", "remove", "team", "carol"]).code == 0)
        try w.exchange(["alice", "bob", "dave"], now: nil)
        // Sent before the removal, by a remaining member: the others still read it.
        for who in ["bob", "dave"] {
            let (r, got) = try w.receiveMessage(who, before)
            #expect(r.code == 0, "\(who): \(r)")
            #expect(got == Array("before".utf8))
        }
        // Sent after the removal: carol has no key for epoch 1.
        let after = try w.send("alice", Array("after".utf8))
        let (r, got) = try w.receiveMessage("carol", after)
        #expect(r.code == 4, "\(r)")
        #expect(r.stderr.contains("epoch 1"))
        #expect(got == nil && r.stdout.isEmpty)
        #expect(try w.receiveMessage("bob", after).0.code == 0)
        // carol, still at epoch 0, sends afterwards: the others know she is gone. (Her earlier message too: a
        // removed member is no longer believed, as in Signal.)
        let carolAfter = try w.send("carol", Array("carol after".utf8))
        for path in [carolAfter, carolBefore] {
            let (rejected, none) = try w.receiveMessage("bob", path)
            #expect(rejected.code == 2, "\(rejected)")
            #expect(rejected.stderr.contains("is not a member of room \"team\" at epoch 1"))
            #expect(none == nil)
        }
        // A message forged for epoch 1 under a key of carol's own making: not a member at epoch 1.
        let carol = try w.keyring("carol"), room = try carol.room("team")
        let carolID = try carol.identityCard().id
        let own = try OwnSenderKey.generate(roomID: room.id, owner: carolID, epoch: 1, generation: 0, random: SystemRandom())
        var forger = MessageEncryptor(key: own, random: try SystemRandom())
        let forged = try w.file(try forger.encrypt(Array("forged".utf8)).bytes, "forged.bin")
        let f = try w.run("dave", ["decrypt", forged])
        #expect(f.code == 2 && f.stdout.isEmpty, "\(f)")
    }

    @Test func truncatedAndFlippedMessagesPrintNothing() throws {
        let w = try RoomWorld.team(["bob"])
        let path = try w.send("alice", Array("the secret plan".utf8))
        let bytes = try w.bytes(path)
        let before = try w.snapshot("bob")
        for n in [0, 4, 68, bytes.count - 1] {
            let r = try w.run("bob", ["decrypt", try w.file(Array(bytes.prefix(n)), "t\(n).bin")])
            #expect(r.code == 65 && r.stdout.isEmpty, "truncated to \(n): \(r)")
        }
        // Every flip is refused without plaintext. Where the flip changes which key the header names (room id, key id),
        // no stored key can check the signature, so the answer is "no such room" (4) or "key not received yet" (5);
        // everywhere else it is rejected (2) or malformed (65).
        let regions: [(String, Int, Int32)] = [
            ("version", 3, 65), ("room", 5, 4), ("epoch", 27, 2), ("sender", 40, 2), ("key id", 50, 5), ("iteration", 62, 2),
            ("length", 66, 65), ("nonce", 80, 2), ("ciphertext", 100, 2), ("tag", bytes.count - 70, 2), ("signature", bytes.count - 10, 2),
        ]
        for (region, index, code) in regions {
            var flipped = bytes
            flipped[index] ^= 0x10
            let r = try w.run("bob", ["decrypt", "--json", try w.file(flipped, "f-\(region).bin")])
            #expect(r.code == code, "\(region): \(r)")
            #expect(!r.stdout.contains("plaintext_base64"), "\(region)")
            #expect(!r.stderr.contains("secret"))
        }
        let armored = MessageArmor.encode(bytes)
        let cut = try w.run("bob", ["decrypt"], stdin: Data(armored.dropLast(10).utf8))
        #expect(cut.code == 65 && cut.stdout.isEmpty, "\(cut)")
        #expect(try w.snapshot("bob") == before)
        let (ok, got) = try w.receiveMessage("bob", path)
        #expect(ok.code == 0 && got == Array("the secret plan".utf8), "\(ok)")
        let big = w.s.path("big.bin")
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: UInt64(RoomMessage.maxPlaintext + 1))
        try handle.close()
        let tooBig = try w.run("alice", ["encrypt", "team", "-o", w.s.path("never.bin"), big])
        #expect(tooBig.code == 65, "\(tooBig)")
    }

    @Test func aKeyNotYetReceivedIsPendingThenDecrypts() throws {
        let w = try RoomWorld.team(["bob"])
        #expect(try w.run("bob", ["room", "rotate", "team", "-o", w.s.path("rotation.roomkey")]).code == 0)
        let path = try w.send("bob", Array("new generation".utf8))
        let (r, none) = try w.receiveMessage("alice", path)
        #expect(r.code == 5, "\(r)")
        #expect(r.stderr.contains("has not been received yet"))
        #expect(none == nil)
        #expect(try w.run("alice", ["receive", w.s.path("rotation.roomkey")]).code == 0)
        let (ok, got) = try w.receiveMessage("alice", path)
        #expect(ok.code == 0 && got == Array("new generation".utf8), "\(ok)")
        let unknown = try w.run("carol", ["decrypt", path, "--json"])
        #expect(unknown.code == 4, "\(unknown)")
        #expect((try unknown.json()["error"] as? [String: Any])?["kind"] as? String == "not-found")
    }

    @Test func concurrentDecryptsOfOneSenderBothSucceed() throws {
        let w = try RoomWorld.team(["bob"])
        let paths = try (0..<6).map { try w.send("alice", Array("m\($0)".utf8)) }
        for pair in stride(from: 0, to: 6, by: 2) {
            let results = Results(count: 2), env = ["ROOMKEY_KEYRING": w.s.keyring("bob")]
            DispatchQueue.concurrentPerform(iterations: 2) { k in results.set(k, try? CLI.run(["decrypt", paths[pair + 1 - k]], env: env)) }
            for k in 0..<2 {
                let r = try #require(results.get(k))
                #expect(r.code == 0 && r.stdout == "m\(pair + 1 - k)", "\(r)")
            }
        }
    }
}

/// Results filled in by concurrent workers.
final class Results: @unchecked Sendable {
    private var runs: [Run?]
    private let lock = NSLock()
    init(count: Int) { runs = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Run?) { lock.lock(); runs[i] = r; lock.unlock() }
    func get(_ i: Int) -> Run? { lock.lock(); defer { lock.unlock() }; return runs[i] }
}
