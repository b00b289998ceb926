// Benchmark helpers that need the library (run by Benchmarks/run): synthetic identities for the big-room benchmarks,
// and the message encryption benchmark (MessageBench.swift). Not part of the roomkey tool.
import Foundation
import RoomKey
import RoomKeyCore

/// The X-Wing keys of the version 2 cards in `cards` (one card per line), in file order.
func xwingKeys(cards: String) throws -> [XWingPublicKey] {
    try String(contentsOfFile: cards, encoding: .utf8).split(separator: "\n").compactMap { line in
        try IdentityCard.parsed(text: String(line)).xwingKey
    }
}

/// Writes `count` self-signed identity cards (handles m000001...) to `cards`, and their handles to `names`;
/// version 2 cards (with an X-Wing key) when `postQuantum`.
func writeCards(count: Int, cards: String, names: String, postQuantum: Bool = false) throws {
    var cardLines: [String] = []
    var nameLines: [String] = []
    cardLines.reserveCapacity(count)
    for i in 1...count {
        let handle = String(format: "m%06d", i)
        let signing = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate()
        let xwing = postQuantum ? try XWingKeyPair.generate().publicKey : nil
        let card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, xwingKey: xwing, created: 1_790_000_000)
        cardLines.append(card.text)
        nameLines.append(handle)
    }
    try (cardLines.joined(separator: "\n") + "\n").write(toFile: cards, atomically: true, encoding: .utf8)
    try (nameLines.joined(separator: "\n") + "\n").write(toFile: names, atomically: true, encoding: .utf8)
}

/// Runs `body` once; its wall and CPU seconds (every thread of the process), as the seal commands print them.
func timed(_ body: () throws -> Void) rethrows -> String {
    var cpu0 = timespec(), cpu1 = timespec(), wall0 = timespec(), wall1 = timespec()
    clock_gettime(CLOCK_MONOTONIC, &wall0)
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0)
    try body()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1)
    clock_gettime(CLOCK_MONOTONIC, &wall1)
    func seconds(_ a: timespec, _ b: timespec) -> Double { Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9 }
    return String(format: "%.6f %.6f", seconds(wall0, wall1), seconds(cpu0, cpu1))
}

let args = CommandLine.arguments
do {
    switch args.dropFirst().first {
    case "cards" where args.count == 5 || (args.count == 6 && args[5] == "pq"):
        guard let n = Int(args[2]), n > 0 else { throw CocoaError(.formatting) }
        try writeCards(count: n, cards: args[3], names: args[4], postQuantum: args.count == 6)
    case "xwing-seal-loop" where args.count <= 4:
        // The post-quantum floor: N X-Wing HPKE seals of a 32-byte key on one core (the counterpart of Benchmarks/seal_loop.c).
        // With CARDS, to the X-Wing keys of those cards in turn (a room's own recipients: ML-KEM-768 expands each key's
        // matrix by rejection sampling, whose branches a loop over one key learns); without, to one fresh key.
        // Prints wall and CPU seconds of the loop.
        let n = args.count > 2 ? Int(args[2]) ?? 0 : 9_998
        guard n > 0 else { throw CocoaError(.formatting) }
        let keys = args.count > 3 ? try xwingKeys(cards: args[3]) : [try XWingKeyPair.generate().publicKey]
        guard !keys.isEmpty else { throw CocoaError(.formatting) }
        var message = [UInt8](repeating: 0, count: 32)
        let info = [UInt8](repeating: 1, count: 60)
        var sink: UInt8 = 0
        let times = try timed {
            for i in 0..<n {
                message[0] = UInt8(truncatingIfNeeded: i)
                let box = try message.withUnsafeBytes { try XWingHPKE.seal($0, to: keys[i % keys.count], info: info) }
                sink ^= box[0]
            }
        }
        print(times + (sink == 0 && n < 0 ? " " : ""))
    case "xwing-batch-seal" where args.count == 4:
        // The seals of an X-Wing `room remove` alone: N seals to the keys of CARDS in turn through the batch path
        // (`XWingHPKE.batchSeal`, every core), for comparing with xwing-seal-loop. Prints wall and CPU seconds.
        guard let n = Int(args[2]), n > 0 else { throw CocoaError(.formatting) }
        let cardKeys = try xwingKeys(cards: args[3])
        guard !cardKeys.isEmpty else { throw CocoaError(.formatting) }
        let keys = (0..<n).map { cardKeys[$0 % cardKeys.count] }
        let infos = (0..<n).map { [UInt8](repeating: UInt8(truncatingIfNeeded: $0), count: 60) }
        let boxLength = XWingHPKE.encapsulatedLength + 32 + XWingHPKE.tagLength
        let offsets = (0..<n).map { $0 * boxLength }
        var out = [UInt8](repeating: 0, count: n * boxLength)
        var bytes = [UInt8](repeating: 3, count: 32)
        let message = SecretBytes(consuming: &bytes)
        print(try timed { try XWingHPKE.batchSeal(message, keys: keys, infos: infos, offsets: offsets, into: &out) })
    case "batch-seal" where args.count == 3:
        // The seals of a version 1 `room remove` or `room create` alone: N `crypto_box_seal`s of a 32-byte key to N
        // distinct X25519 keys through the batch path (`BatchSeal.seal`, every core; `taskset -c 0` for one), for comparing
        // with Benchmarks/seal_loop.c. Prints wall and CPU seconds.
        guard let n = Int(args[2]), n > 0 else { throw CocoaError(.formatting) }
        var keys = [UInt8]()
        keys.reserveCapacity(n * SealingPublicKey.length)
        for _ in 0..<n { keys += try SealingKeyPair.generate().publicKey.bytes }
        let stride = 16 + 32 + SealingPublicKey.sealOverhead
        var out = [UInt8](repeating: 0, count: n * stride)
        var bytes = [UInt8](repeating: 3, count: 32)
        let message = SecretBytes(consuming: &bytes)
        print(try timed { try BatchSeal.seal(message, keys: keys, into: &out, offset: 16, stride: stride) })
    case "argon2id" where args.count == 2:
        // The unlock floor: one Argon2id run at the limits a new keyring's passphrase gets (libsodium's interactive),
        // as `roomkey` runs it to unwrap the keyring key. Prints wall and CPU seconds of that run.
        var passphrase = Array("correct horse battery staple".utf8)
        let secret = SecretBytes(consuming: &passphrase)
        let salt = [UInt8](repeating: 7, count: Argon2id.saltLength)
        var cpu0 = timespec(), cpu1 = timespec(), wall0 = timespec(), wall1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall0)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0)
        let key = try Argon2id.deriveKey(passphrase: secret, salt: salt, opsLimit: KDFLimits.interactive.opsLimit,
                                         memLimit: KDFLimits.interactive.memLimit)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1)
        clock_gettime(CLOCK_MONOTONIC, &wall1)
        _ = consume key
        func seconds(_ a: timespec, _ b: timespec) -> Double { Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9 }
        print(String(format: "%.6f %.6f", seconds(wall0, wall1), seconds(cpu0, cpu1)))
    case "messages" where args.count <= 5:
        // messages [COUNT] [KEYRING_COUNT] [ROUNDS]: defaults 10,000 in memory and 1,000 through keyrings, each 3 rounds (medians).
        let count = args.count > 2 ? Int(args[2]) ?? 0 : 10_000
        let keyringCount = args.count > 3 ? Int(args[3]) ?? -1 : 1_000
        let rounds = args.count > 4 ? Int(args[4]) ?? 0 : 3
        guard count > 0, keyringCount >= 0, rounds > 0 else { throw CocoaError(.formatting) }
        try MessageBench.run(count: count, size: 1024, keyringCount: min(keyringCount, count), rounds: rounds)
    case "join" where args.count == 4:
        // bob's receive of the bundle that adds him to a room of MEMBERS after EPOCHS commits (JoinBench.swift).
        guard let m = Int(args[2]), let e = Int(args[3]) else { throw CocoaError(.formatting) }
        try JoinBench.run(members: m, epochs: e)
    case "epochs" where args.count <= 6:
        // epochs [MEMBERS] [EPOCHS] [MESSAGES] [ROUNDS]: defaults 100 members, 1,000 epochs, 200 messages, 5 rounds.
        let numbers = args.dropFirst(2).map { Int($0) ?? 0 }
        func arg(_ i: Int, _ fallback: Int) -> Int { i < numbers.count ? numbers[i] : fallback }
        try EpochBench.run(members: arg(0, 100), epochs: arg(1, 1_000), messages: arg(2, 200), rounds: arg(3, 5))
    default:
        FileHandle.standardError.write(Data("usage: roomkey-bench cards N CARDS_FILE NAMES_FILE [pq] | xwing-seal-loop [N [CARDS_FILE]] | xwing-batch-seal N CARDS_FILE | batch-seal N | argon2id | messages [COUNT] [KEYRING_COUNT] [ROUNDS] | epochs [MEMBERS] [EPOCHS] [MESSAGES] [ROUNDS] | join MEMBERS EPOCHS\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("roomkey-bench: error: \(error)\n".utf8))
    exit(1)
}
