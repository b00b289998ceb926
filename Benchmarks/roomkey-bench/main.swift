// Benchmark helpers that need the library: synthetic identities for the big-room benchmark,
// and the message encryption benchmark (MessageBench.swift). Not part of the roomkey tool.
import Foundation
import RoomKey
import RoomKeyCore

/// Writes `count` self-signed identity cards (handles m000001...) to `cards`, and their handles to `names`.
func writeCards(count: Int, cards: String, names: String) throws {
    var cardLines: [String] = []
    var nameLines: [String] = []
    cardLines.reserveCapacity(count)
    for i in 1...count {
        let handle = String(format: "m%06d", i)
        let signing = try SigningKeyPair.generate()
        let sealing = try SealingKeyPair.generate()
        let card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: 1_790_000_000)
        cardLines.append(card.text)
        nameLines.append(handle)
    }
    try (cardLines.joined(separator: "\n") + "\n").write(toFile: cards, atomically: true, encoding: .utf8)
    try (nameLines.joined(separator: "\n") + "\n").write(toFile: names, atomically: true, encoding: .utf8)
}

let args = CommandLine.arguments
do {
    switch args.dropFirst().first {
    case "cards" where args.count == 5:
        guard let n = Int(args[2]), n > 0 else { throw CocoaError(.formatting) }
        try writeCards(count: n, cards: args[3], names: args[4])
    case "messages" where args.count <= 4:
        // messages [COUNT] [KEYRING_COUNT]: defaults 10,000 in memory (median of 3 rounds) and 1,000 through keyrings.
        let count = args.count > 2 ? Int(args[2]) ?? 0 : 10_000
        let keyringCount = args.count > 3 ? Int(args[3]) ?? -1 : 1_000
        guard count > 0, keyringCount >= 0 else { throw CocoaError(.formatting) }
        try MessageBench.run(count: count, size: 1024, keyringCount: min(keyringCount, count), rounds: 3)
    default:
        FileHandle.standardError.write(Data("usage: roomkey-bench cards N CARDS_FILE NAMES_FILE | messages [COUNT] [KEYRING_COUNT]\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("roomkey-bench: error: \(error)\n".utf8))
    exit(1)
}
