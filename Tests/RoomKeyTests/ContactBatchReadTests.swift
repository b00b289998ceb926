import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Reading many contacts at once (a room made from a long members file): one pass over the contact table gives what
/// one lookup per name gives, in the caller's order, and the same first error.
@Suite(.temporaryFolder) struct ContactBatchReadTests {
    /// A keyring with contacts c000...c099 (or `contacts` of them) and `changed`, whose key changed and was not accepted.
    static func keyring(contacts: Int = 100) throws -> Keyring {
        let keyring = try KeyringTests.create(passphrase: nil)
        _ = try keyring.addContacts(try (0..<contacts).map { try makeTestCard(handle: String(format: "c%03d", $0)) }, as: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "changed")], as: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "changed")], as: nil)
        return keyring
    }

    static func names(_ range: Range<Int>) -> [String] { range.map { String(format: "c%03d", $0) } }

    @Test(arguments: [
        names(0..<10),                                       // short: one lookup per name
        names(0..<80) + ["c005", "nobody", "changed"],       // long: one pass, with a repeat, a stranger, a changed key
        ["nobody"] + names(20..<100).reversed(),             // long, in another order
    ])
    func oneReadPerNameAndOnePassGiveTheSame(names: [String]) throws {
        let keyring = try Self.keyring()
        let (together, oneByOne) = try keyring.read { db in
            (try keyring.fetchContacts(db, named: names), try names.map { try keyring.fetchContact(db, tag: keyring.nameTag($0)) })
        }
        #expect(together.count == names.count)
        #expect(together.map { $0?.card } == oneByOne.map { $0?.card })
        #expect(together.map { $0?.name } == names.map { $0 == "nobody" ? nil : $0 })
        #expect(together.map { $0?.keyChanged } == oneByOne.map { $0?.keyChanged })
    }

    @Test func theFirstNameThatCannotBeSealedToIsTheError() throws {
        let keyring = try Self.keyring()
        func sealable(_ names: [String]) throws -> [String] { try keyring.read { db in try keyring.sealableContacts(db, names).map(\.name) } }
        for long in [false, true] {
            let before = long ? Self.names(0..<70) : []
            #expect(throws: ContactError.notFound(name: "nobody")) { try sealable(before + ["nobody", "changed"]) }
            #expect(throws: RoomError.keyChangedContact(name: "changed")) { try sealable(before + ["changed", "nobody"]) }
            #expect(try sealable(before + ["c099"]) == before + ["c099"])
        }
    }

    @Test func aRoomOfManyIsMadeFromContactsReadInOnePass() throws {
        let keyring = try Self.keyring()
        let members = Self.names(0..<90)
        let result = try keyring.createRoom(name: "many", members: members, deliver: { _ in "out" })
        #expect(result.recipientCount == 90)
        #expect(Set(try keyring.room("many").state.roster.sorted.map(\.card.handle)) == Set(members + ["alice"]))
        #expect(throws: ContactError.notFound(name: "nobody")) {
            try keyring.createRoom(name: "more", members: members + ["nobody"], deliver: { _ in "out" })
        }
    }
}
