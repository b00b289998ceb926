import RoomKeyCore

/// A person in a core test: an identity key, a sealing key, and the self-signed card they make.
package final class TestPerson {
    /// The identity (signing) key pair.
    package let signing: SigningKeyPair
    /// The sealing key pair the card names.
    package let sealing: SealingKeyPair
    /// The card, signed by `signing`.
    package let card: IdentityCard

    /// A new person named `handle`, with a card dated `created`.
    package init(_ handle: String, created: UInt64 = 1) throws {
        signing = try SigningKeyPair.generate()
        sealing = try SealingKeyPair.generate()
        card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: created)
    }

    /// The person's identity id.
    package var id: IdentityID { card.id }
}
