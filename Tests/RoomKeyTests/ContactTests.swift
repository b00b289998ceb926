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
