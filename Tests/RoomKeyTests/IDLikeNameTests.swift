import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A name that reads as an identity id is refused wherever a new name comes in (a hostile review found that a stranger
/// whose handle was bob's id became "the contact named bob's id": `offboard <bob's id>` then removed the stranger and
/// left bob in every room, and `room add`, members files and `verify` given bob's id picked the stranger).
@Suite(.temporaryFolder) struct IDLikeNameTests {
    @Test func aCardWhoseHandleIsAnotherPersonsIDIsRefused() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let bob = try makeTestCard(handle: "bob")
        _ = try keyring.addContacts([bob], as: nil)
        let eve = try makeTestCard(handle: bob.id.hex)
        #expect(throws: WireError.self) { try keyring.addContacts([eve], as: nil) }
        #expect(throws: WireError.self) { try keyring.addContacts([eve], as: bob.id.hex.uppercased()) }
        // As for any handle that hides what it reads as, a name of one's own does not make the card acceptable.
        #expect(throws: WireError.self) { try keyring.addContacts([eve], as: "eve") }
        #expect(try keyring.contacts().map(\.name) == ["bob"])
        // bob's own card may be stored under a plain name, never under one that reads as an id.
        #expect(throws: WireError.self) { try keyring.addContacts([bob], as: eve.id.hex) }
    }

    @Test func aRoomOrOwnNameThatReadsAsAnIDIsRefused() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let id = try keyring.identityCard().id.hex
        #expect(throws: WireError.self) { try keyring.createRoom(name: id, members: [], deliver: { _ in "bundle" }) }
        #expect(throws: WireError.self) { try Handle.validateNew(id) }
    }
}
