// The `join` benchmark (issue 13, a hostile review's finding): a member added to a room with a long history receives
// the whole log in one bundle, and must not hold a roster per epoch while it checks it. alice makes a room of MEMBERS
// (synthetic cards), EPOCHS commits (promote and demote of one synthetic member), then adds bob; bob's receive of her
// bundle is measured alone: wall seconds and its peak resident memory (the process's peak is reset just before, through
// /proc/self/clear_refs), and the size of bob's keyring after. Prints one JSON object on the last line.
import Foundation
import RoomKey
import RoomKeyCore

enum JoinBench {
    static func run(members: Int, epochs: Int) throws {
        guard members >= 3, epochs >= 1 else { throw CocoaError(.formatting) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-bench-join-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let random = try SystemRandom()
        let alice = try Keyring.create(path: dir.appendingPathComponent("alice.sqlite").path, handle: "alice", passphrase: nil, random: random)
        let bobPath = dir.appendingPathComponent("bob.sqlite").path
        let bob = try Keyring.create(path: bobPath, handle: "bob", passphrase: nil, random: random)
        var cards: [IdentityCard] = []
        for i in 1...(members - 1) {
            cards.append(try IdentityCard(handle: String(format: "m%06d", i), signer: try SigningKeyPair.generate(),
                                          sealingKey: try SealingKeyPair.generate().publicKey, created: 1_790_000_000))
        }
        _ = try alice.addContacts(cards + [try bob.identityCard()], as: nil)
        _ = try bob.addContacts([try alice.identityCard()], as: "alice")
        let ignore: BundleDelivery = { _ in "ignored" }
        _ = try alice.createRoom(name: "aged", members: cards.map(\.handle), deliver: ignore)
        for epoch in 1...epochs {
            _ = try alice.change(room: "aged", [epoch % 2 == 1 ? .promote("m000001") : .demote("m000001")], deliver: ignore)
        }
        var bundles: [[UInt8]] = []
        _ = try alice.change(room: "aged", [.add(["bob"])], deliver: { out in bundles.append(out.bytes); return "b\(bundles.count)" })
        let inputs = bundles.enumerated().map { ReceiveInput(path: "b\($0.offset)", bytes: $0.element) }
        bundles.removeAll()
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = peakKB()
        let start = DispatchTime.now().uptimeNanoseconds
        let results = try bob.receive(inputs, deliver: ignore)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let peak = peakKB()
        guard results.contains(where: { $0.status == .applied }) else {
            throw CocoaError(.coderInvalidValue, userInfo: [NSDebugDescriptionErrorKey: "bob applied nothing: \(results.map(\.status))"])
        }
        let size = (try FileManager.default.attributesOfItem(atPath: bobPath)[.size] as? Int) ?? 0
        print(String(format: "bob joins at epoch %d of a room of %d: %.2f s, peak %.1f MB (%.1f MB before), keyring %.1f MB",
                     epochs + 1, members, seconds, Double(peak) / 1024, Double(before) / 1024, Double(size) / 1e6))
        let json = try JSONSerialization.data(withJSONObject: ["members": members, "epochs": epochs, "seconds": seconds,
                                                               "peak_kb": peak, "before_kb": before, "keyring_bytes": size],
                                              options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// The process's peak resident memory in KiB (VmHWM), 0 if it cannot be read.
    static func peakKB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
