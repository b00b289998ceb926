import Foundation
import GRDB
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

    // With 101 contacts, fewer than 64 names are looked up one by one and 64 or more are read in one pass.
    @Test(arguments: [
        names(0..<10) + ["nobody"],                          // short: one lookup per name
        names(0..<62) + ["nobody"],                          // 63 names: the last list looked up one by one
        names(0..<63) + ["nobody"],                          // 64 names: the first list read in one pass
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

    @Test(arguments: [false, true])
    func aRowUnderAnotherNamesTagFailsItsCheckEitherWay(long: Bool) throws {
        let keyring = try Self.keyring()
        // c001's sealed row under c002's tag: it does not open there, whichever way it is read.
        try keyring.db.write { db in
            let row = try Data.fetchOne(db, sql: "SELECT sealed FROM contact WHERE name_tag = ?", arguments: [Data(keyring.nameTag("c001"))])
            try db.execute(sql: "UPDATE contact SET sealed = ? WHERE name_tag = ?", arguments: [row, Data(keyring.nameTag("c002"))])
        }
        let names = (long ? Self.names(10..<80) : []) + ["c002"]
        #expect(throws: KeyringError.integrityFailure(table: "contact")) {
            try keyring.read { db in try keyring.fetchContacts(db, named: names) }
        }
        // The first name that fails is the error: a stranger before the damaged row is reported as such.
        #expect(throws: ContactError.notFound(name: "nobody")) {
            try keyring.read { db in try keyring.sealableContacts(db, (long ? Self.names(10..<80) : []) + ["nobody", "c002"]) }
        }
    }

    @Test func aRoomOfManyIsMadeFromContactsReadInOnePass() throws {
        let keyring = try Self.keyring()
        let members = Self.names(0..<90)
        let result = try keyring.createRoom(name: "many", members: members, deliver: { _ in "out" })
        #expect(result.recipientCount == 90)
        #expect(Set(try keyring.room("many").state.roster.sorted.map(\.card.handle)) == Set(members + ["alice"]))
        func counts() throws -> [Int?] {
            try keyring.read { db in try ["room", "room_commit", "member_tenure", "outbox"].map { try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") } }
        }
        let before = try counts()
        #expect(throws: ContactError.notFound(name: "nobody")) {
            try keyring.createRoom(name: "more", members: members + ["nobody"], deliver: { _ in "out" })
        }
        // Refused before the room, its log, its tenures or its bundle was written.
        #expect(try counts() == before)
        #expect(try keyring.rooms().map(\.name) == ["many"])
    }
}
