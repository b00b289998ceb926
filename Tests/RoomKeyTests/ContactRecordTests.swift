import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// The contact row's binary form, the JSON form of older rows, and rows that must be refused.
@Suite(.temporaryFolder) struct ContactRecordTests {
    static func record(_ verified: Bool, _ keyChanged: Bool, _ accepted: Bool?, name: String = "bob") throws -> ContactRecord {
        ContactRecord(name: name, card: try makeTestCard(handle: "bob"), verified: verified, keyChanged: keyChanged,
                      added: 1_790_000_123, accepted: accepted)
    }

    @Test(arguments: [(false, false, nil), (true, false, nil), (false, true, nil), (true, true, nil), (false, false, false),
                      (false, false, true), (true, true, true)] as [(Bool, Bool, Bool?)])
    func bothFormsRoundTrip(verified: Bool, keyChanged: Bool, accepted: Bool?) throws {
        let r = try Self.record(verified, keyChanged, accepted, name: "Bøb")
        #expect(r.encoded().withUnsafeBytes(ContactRecord.decode) == r)
        #expect(try r.legacyJSON().withUnsafeBytes(ContactRecord.decode) == r)
        #expect(r.encoded().first == ContactRecord.version)
    }

    @Test func postQuantumCardsRoundTrip() throws {
        let pq = try IdentityCard(handle: "carol", signer: try SigningKeyPair.generate(), sealingKey: try SealingKeyPair.generate().publicKey,
                                  xwingKey: try XWingKeyPair.generate().publicKey, created: 1)
        let r = ContactRecord(name: "carol", card: pq, verified: true, keyChanged: false, added: 2)
        #expect(r.encoded().withUnsafeBytes(ContactRecord.decode)?.card.isPostQuantum == true)
    }

    /// Each edit of a good row, and what it is.
    static let damaged: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
        ("empty", { _ in [] }),
        ("unknown version", { [2] + $0.dropFirst() }),
        ("unknown flag", { var b = $0; b[1] |= 0x10; return b }),
        ("truncated header", { Array($0.prefix(11)) }),
        ("empty name", { var b = $0; b[10] = 0; b[11] = 0; return b }),
        ("name longer than the row", { var b = $0; b[10] = 0xFF; return b }),
        ("name not UTF-8", { var b = $0; b[12] = 0xFF; return b }),
        ("card cut short", { Array($0.dropLast()) }),
        ("byte after the card", { $0 + [0] }),
        ("JSON without a card", { _ in Array(#"{"added":1,"keyChanged":true,"name":"bob","verified":false}"#.utf8) }),
    ]

    @Test(arguments: damaged.indices)
    func damagedRowsAreRefused(index: Int) throws {
        let good = try Self.record(true, false, nil).encoded()
        let (what, edit) = Self.damaged[index]
        #expect(edit(good).withUnsafeBytes(ContactRecord.decode) == nil, "\(what)")
    }

    @Test func aKeyringWithJSONContactRowsReadsAndRewritesThem() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let bob = try makeTestCard(handle: "bob")
        _ = try keyring.addContacts([bob], as: nil)
        // Put the row back in the form older versions wrote.
        let tag = keyring.nameTag("bob")
        let legacy = try Self.record(false, false, nil)
        let json = ContactRecord(name: "bob", card: bob, verified: false, keyChanged: false, added: legacy.added)
        let sealed = try json.legacyJSON().withUnsafeBytes { keyring.rows.seal($0, table: Keyring.contactTable, primaryKey: tag) }
        try keyring.write { db in try db.execute(sql: "UPDATE contact SET sealed = ? WHERE name_tag = ?", arguments: [Data(sealed), Data(tag)]) }
        #expect(try keyring.contacts().map(\.card) == [bob])
        try keyring.markVerified(named: "bob")
        let stored = try keyring.read { db in try Data.fetchOne(db, sql: "SELECT sealed FROM contact WHERE name_tag = ?", arguments: [Data(tag)]) }
        let plain = try keyring.rows.openSecret(Array(try #require(stored)), table: Keyring.contactTable, primaryKey: tag)
        #expect(plain.withUnsafeBytes { $0.first } == ContactRecord.version)
        #expect(try keyring.contact(named: "bob").verified)
        try keyring.verifyRows()
    }
}
