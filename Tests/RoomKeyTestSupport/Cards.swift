import RoomKeyCore

/// A freshly generated, self-signed identity card (its keys are thrown away).
package func makeTestCard(handle: String = "alice", created: UInt64 = 1_790_000_000) throws -> IdentityCard {
    let signing = try SigningKeyPair.generate()
    let sealing = try SealingKeyPair.generate()
    return try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: created)
}
