import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Contacts: adding, renaming, key changes and their history, removal.
@Suite(.temporaryFolder) struct ContactTests {
    @Test func addListShowRemove() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let bob = try makeTestCard(handle: "bob")
        #expect(try keyring.addContacts([bob], as: nil) == [ContactAddResult(name: "bob", id: bob.id, outcome: .added)])
        #expect(try keyring.addContacts([bob], as: nil).first?.outcome == .unchanged)
        let shown = try keyring.contact(named: "bob")
        #expect(shown.card == bob && !shown.verified && !shown.keyChanged)
        #expect(try keyring.contacts().map(\.name) == ["bob"])
        try keyring.removeContact(named: "bob")
        #expect(throws: ContactError.notFound(name: "bob")) { try keyring.contact(named: "bob") }
        #expect(throws: ContactError.notFound(name: "bob")) { try keyring.removeContact(named: "bob") }
    }

    @Test func aNewKeyUnderAKnownNameIsFlaggedAndKept() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let old = try makeTestCard(handle: "bob"), new = try makeTestCard(handle: "bob")
        _ = try keyring.addContacts([old], as: nil)
        let result = try keyring.addContacts([new], as: nil)
        #expect(result.first?.outcome == .keyChanged(previous: old.id))
        let c = try keyring.contact(named: "bob")
        #expect(c.card == new && c.keyChanged && !c.verified)
        #expect(try keyring.keyHistory(named: "bob").map(\.card) == [old])
    }

    @Test func sameIdentityUnderAnotherNameIsNotDuplicated() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let bob = try makeTestCard(handle: "bob")
        _ = try keyring.addContacts([bob], as: nil)
        #expect(try keyring.addContacts([bob], as: "robert").first?.outcome == .alreadyKnown(as: "bob"))
        #expect(try keyring.contacts().count == 1)
    }

    @Test func batchIsAllOrNothing() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let own = try keyring.identityCard()
        let bob = try makeTestCard(handle: "bob")
        #expect(throws: ContactError.ownCard) { try keyring.addContacts([bob, own], as: nil) }
        let other = try makeTestCard(handle: "bob")
        #expect(throws: ContactError.conflictingCards(name: "bob")) { try keyring.addContacts([bob, other], as: nil) }
        #expect(try keyring.contacts().isEmpty)
        #expect(throws: ContactError.nameForManyCards(count: 2)) {
            try keyring.addContacts([bob, try makeTestCard(handle: "c")], as: "x")
        }
    }
}

/// Every keyring change appends an audit entry (PROTOCOL §7): a newer card of a known key, and a room's local settings,
/// changed the keyring without one (an interop review).
@Suite(.temporaryFolder) struct ChangeAuditTests {
    @Test func aNewerCardOfTheSameKeyIsAudited() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let signer = try SigningKeyPair.generate(), sealing = try SealingKeyPair.generate().publicKey
        let first = try IdentityCard(handle: "bob", signer: signer, sealingKey: sealing, created: 1_800_000_000)
        let newer = try IdentityCard(handle: "bob", signer: signer, sealingKey: sealing, created: 1_800_000_100)
        _ = try keyring.addContacts([first], as: nil)
        let before = try keyring.auditEntries()
        #expect(try keyring.addContacts([newer], as: nil).first?.outcome == .updated)
        let added = try keyring.auditEntries().dropFirst(before.count)
        #expect(added.map(\.event) == [.contactAdd], "\(added.map(\.detail))")
        #expect(added.first?.detail.contains("1800000100") == true, "\(added.map(\.detail))")
        #expect(try keyring.contact(named: "bob").card == newer)
    }

    @Test func roomSettingsAreAudited() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob")], as: nil)
        _ = try keyring.createRoom(name: "team", members: ["bob"], deliver: { _ in "out" })
        let before = try keyring.auditEntries()
        _ = try keyring.setRoomPolicy(room: "team", retentionSeconds: 172_800, rotateMessages: 5, rotateAfterSeconds: nil)
        let added = try keyring.auditEntries().dropFirst(before.count)
        #expect(added.map(\.event) == [.roomPolicy], "\(added.map(\.detail))")
        #expect(added.first?.detail.contains("retention 172800s, rotate-messages 5") == true, "\(added.map(\.detail))")
    }
}

/// The version 2 card of a contact on a version 1 card upgrades it under any handle or name it comes with (a review: under
/// another handle, or `--as` another name, it was "already known", and the member's stanzas stayed X25519 alone).
@Suite(.temporaryFolder) struct UpgradeUnderAnotherNameTests {
    @Test(arguments: [(handle: "pyz2", as: nil), (handle: "pyz", as: "someone")] as [(String, String?)])
    func anUpgradeUnderAnotherNameUpgradesTheContact(handle: String, as name: String?) throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let signer = try SigningKeyPair.generate(), sealing = try SealingKeyPair.generate().publicKey
        let v1 = try IdentityCard(handle: "pyz", signer: signer, sealingKey: sealing, created: 1_800_000_000)
        let v2 = try IdentityCard(handle: handle, signer: signer, sealingKey: sealing, xwingKey: try XWingKeyPair.generate().publicKey,
                                  created: 1_800_000_100)
        _ = try keyring.addContacts([v1], as: nil)
        let result = try #require(try keyring.addContacts([v2], as: name).first)
        #expect(result.outcome == .upgraded && result.name == "pyz", "\(result)")
        #expect(try keyring.contact(named: "pyz").card == v2)
        #expect(try keyring.contacts().count == 1)
    }
}
