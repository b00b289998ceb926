import Testing
@testable import RoomKeyCore

/// A self-signed card whose keys nothing can be sealed to fails verification, so it never reaches a contact list or a
/// roster (found by an independent review: such an "upgrade" card made every later seal fail, freezing the room).
struct UnusableKeyCardTests {
    /// A card made by a fresh identity with these keys.
    static func card(sealing: [UInt8]? = nil, xwing: [UInt8]? = nil, postQuantum: Bool = true) throws -> IdentityCard {
        let signer = try SigningKeyPair.generate()
        let sealingKey = try sealing.map { try SealingPublicKey(bytes: $0) } ?? SealingKeyPair.generate().publicKey
        let xwingKey = postQuantum ? try XWingPublicKey(bytes: xwing ?? XWingKeyPair.generate().publicKey.bytes) : nil
        return try IdentityCard(handle: "mallory", signer: signer, sealingKey: sealingKey, xwingKey: xwingKey, created: 1_767_225_600)
    }

    /// A valid X-Wing key with `edit` applied.
    static func xwing(_ edit: (inout [UInt8]) -> Void) throws -> [UInt8] {
        var bytes = try XWingKeyPair.generate().publicKey.bytes
        edit(&bytes)
        return bytes
    }

    static let cases: [(String, @Sendable () throws -> IdentityCard, String?)] = [
        ("a valid version 2 card", { try card() }, nil),
        ("a valid version 1 card", { try card(postQuantum: false) }, nil),
        ("an ML-KEM coefficient of 4095, not below q = 3329", {
            try card(xwing: try xwing { $0[0] = 0xFF; $0[1] |= 0x0F })
        }, "the ML-KEM-768 half of the X-Wing key fails FIPS 203's check"),
        ("an X-Wing X25519 half of zero", {
            try card(xwing: try xwing { for i in 1184..<1216 { $0[i] = 0 } })
        }, "the X25519 half of the X-Wing key of small order"),
        ("an X-Wing X25519 half of one (order 1)", {
            try card(xwing: try xwing { for i in 1184..<1216 { $0[i] = 0 }; $0[1184] = 1 })
        }, "the X25519 half of the X-Wing key of small order"),
        ("a sealing key of zero, version 1", { try card(sealing: [UInt8](repeating: 0, count: 32), postQuantum: false) },
         "X25519 key of small order"),
        ("a sealing key of zero, version 2", { try card(sealing: [UInt8](repeating: 0, count: 32)) }, "X25519 key of small order"),
    ]

    @Test(arguments: cases.indices) func verification(_ index: Int) throws {
        let (_, make, reason) = Self.cases[index]
        let made = try make()
        for card in [made, try IdentityCard.parse(made.encoded)] {
            if let reason {
                #expect(throws: CryptoError.unusablePublicKey(reason)) { try card.verify() }
                #expect(throws: CryptoError.unusablePublicKey(reason)) { try IdentityCard.verified(text: card.text) }
                #expect(CryptoError.unusablePublicKey(reason).category == .malformed)
            } else {
                #expect(throws: Never.self) { try card.verify() }
            }
        }
    }

    /// A commit adding such a card is invalid: a roster never holds it.
    @Test func aCommitAddingAnUnusableCardIsInvalid() throws {
        let admin = try SigningKeyPair.generate()
        let adminCard = try IdentityCard(handle: "alice", signer: admin, sealingKey: SealingKeyPair.generate().publicKey, created: 1_767_225_600)
        let bad = try Self.card(xwing: try Self.xwing { $0[0] = 0xFF; $0[1] |= 0x0F })
        let ops: [RoomKeyCore.Operation] = [.create(name: "team", creator: adminCard), .add(bad)]
        #expect { _ = try RoomState.apply(ops, to: Roster(), author: adminCard.id, genesis: true) } throws: { error in
            guard case let LogError.invalidOperation(text)? = error as? LogError else { return false }
            return text.contains("is not valid: unusable public key: the ML-KEM-768 half")
        }
    }
}
