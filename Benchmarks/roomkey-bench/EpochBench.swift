// The `epochs` benchmark (DESIGN §7, issue 13): history must cost nothing extra. Two keyrings in a temp folder, a room of
// MEMBERS (alice, bob and synthetic cards); alice encrypts messages at epoch 0, then makes EPOCHS commits (promote and
// demote of one synthetic member, each with her new sender key), bob receiving each; then alice encrypts as many
// messages at the last epoch. Measured in one run: bob's decrypt of the old messages next to the current ones (same
// count, batch decrypt, alternating which goes first), and alice's commit (and bob's receive of it) around the 10th
// commit next to the last ones. Prints one JSON object of samples (seconds) on the last line.
import Foundation
import RoomKey
import RoomKeyCore

enum EpochBench {
    static func run(members: Int, epochs: Int, messages: Int, rounds: Int) throws {
        guard members >= 3, epochs >= 20, messages >= 1, rounds >= 1 else { throw CocoaError(.formatting) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-bench-epochs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let random = try SystemRandom()
        let alice = try Keyring.create(path: dir.appendingPathComponent("alice.sqlite").path, handle: "alice", passphrase: nil, random: random)
        let bob = try Keyring.create(path: dir.appendingPathComponent("bob.sqlite").path, handle: "bob", passphrase: nil, random: random)
        var cards = [try bob.identityCard()]
        for i in 1...(members - 2) {
            let signing = try SigningKeyPair.generate()
            cards.append(try IdentityCard(handle: String(format: "m%06d", i), signer: signing,
                                          sealingKey: try SealingKeyPair.generate().publicKey, created: 1_790_000_000))
        }
        _ = try alice.addContacts(cards, as: nil)
        _ = try bob.addContacts([try alice.identityCard()], as: "alice")
        var bundles: [[UInt8]] = []
        let capture: BundleDelivery = { out in bundles.append(out.bytes); return "bundle-\(bundles.count)" }
        let ignore: BundleDelivery = { _ in "ignored" }
        _ = try alice.createRoom(name: "aged", members: cards.map(\.handle), deliver: capture)
        _ = try alice.setRoomPolicy(room: "aged", retentionSeconds: nil, rotateMessages: UInt64(RoomPolicy.maxRotateMessages),
                                    rotateAfterSeconds: nil)
        try deliver(&bundles, to: bob, ignore)

        let count = messages * rounds
        let plain = [UInt8](repeating: 0x61, count: 1024)
        let old = try encrypt(alice, count: count, plain: plain, bundles: capture)
        try deliver(&bundles, to: bob, ignore)

        var commit: [Double] = [], receive: [Double] = []
        for epoch in 1...epochs {
            let change: MembershipChange = epoch % 2 == 1 ? .promote("m000001") : .demote("m000001")
            commit.append(try time { _ = try alice.change(room: "aged", [change], deliver: capture) })
            receive.append(try time { try deliver(&bundles, to: bob, ignore) })
        }
        let current = try encrypt(alice, count: count, plain: plain, bundles: capture)
        try deliver(&bundles, to: bob, ignore)

        var decryptOld: [Double] = [], decryptCurrent: [Double] = []
        for round in 0..<rounds {
            let slice = (round * messages)..<((round + 1) * messages)
            let a = Array(old[slice]), b = Array(current[slice])
            if round % 2 == 0 {
                decryptOld.append(try time { try decrypt(bob, a) })
                decryptCurrent.append(try time { try decrypt(bob, b) })
            } else {
                decryptCurrent.append(try time { try decrypt(bob, b) })
                decryptOld.append(try time { try decrypt(bob, a) })
            }
        }
        // Five commits around the 10th, and the last five.
        let early = Array(commit[7..<12]), late = Array(commit.suffix(5))
        let earlyReceive = Array(receive[7..<12]), lateReceive = Array(receive.suffix(5))
        let result: [String: Any] = [
            "members": members, "epochs": epochs, "messages": messages,
            "decrypt_old": decryptOld, "decrypt_current": decryptCurrent,
            "commit_10": early, "commit_last": late, "receive_10": earlyReceive, "receive_last": lateReceive,
        ]
        print(String(format: "decrypt of %d messages from epoch 0 at epoch %d: median %.1f ms; from epoch %d: %.1f ms",
                     messages, epochs, median(decryptOld) * 1000, epochs, median(decryptCurrent) * 1000))
        print(String(format: "commit ~10th: %.2f ms, last: %.2f ms; receive ~10th: %.2f ms, last: %.2f ms",
                     median(early) * 1000, median(late) * 1000, median(earlyReceive) * 1000, median(lateReceive) * 1000))
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// bob receives every captured bundle (what he sends back is dropped: alice needs none of it here).
    static func deliver(_ bundles: inout [[UInt8]], to bob: Keyring, _ ignore: BundleDelivery) throws {
        let inputs = bundles.enumerated().map { ReceiveInput(path: "b\($0.offset)", bytes: $0.element) }
        bundles.removeAll()
        for result in try bob.receive(inputs, deliver: ignore) where result.status != .applied {
            throw CocoaError(.coderInvalidValue, userInfo: [NSDebugDescriptionErrorKey: "receive: \(result.status) \(String(describing: result.error))"])
        }
    }

    static func encrypt(_ alice: Keyring, count: Int, plain: [UInt8], bundles: @escaping BundleDelivery) throws -> [RoomMessage] {
        var out: [RoomMessage] = []
        while out.count < count {
            let n = min(Keyring.messagesPerTransaction, count - out.count)
            for m in try alice.encryptBatch(room: "aged", plaintexts: Array(repeating: plain, count: n), deliverBundle: bundles) {
                out.append(try RoomMessage.parse(m.bytes))
            }
        }
        return out
    }

    static func decrypt(_ bob: Keyring, _ messages: [RoomMessage]) throws {
        for result in try bob.decryptBatch(messages) {
            if case let .failure(error) = result { throw error }
        }
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
