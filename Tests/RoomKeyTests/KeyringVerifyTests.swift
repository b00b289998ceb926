import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Recording verification decisions: markVerified, acceptKeyChange, and rows written before `accepted` existed.
@Suite(.temporaryFolder) struct KeyringVerifyTests {
    @Test func markVerifiedSetsVerifiedAndClearsKeyChanged() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let old = try makeTestCard(handle: "bob"), new = try makeTestCard(handle: "bob")
        _ = try keyring.addContacts([old], as: nil)
        let verified = try keyring.markVerified(named: "bob", identity: old.id)
        #expect(verified.verified && !verified.keyChanged)
        #expect(try keyring.contact(named: "bob").verified)
        _ = try keyring.addContacts([new], as: nil)
        #expect(try keyring.contact(named: "bob").keyChanged)
        // A comparison made against the old key cannot verify the new one.
        #expect(throws: VerificationError.identityChanged(name: "bob")) { try keyring.markVerified(named: "bob", identity: old.id) }
        #expect(try !keyring.contact(named: "bob").verified)
        try keyring.markVerified(named: "bob", identity: new.id)
        let c = try keyring.contact(named: "bob")
        #expect(c.verified && !c.keyChanged && c.card == new)
        #expect(try !keyring.keyChangeAccepted(named: "bob"))
        #expect(throws: ContactError.notFound(name: "zed")) { try keyring.markVerified(named: "zed") }
    }

    @Test func acceptKeyChangeClearsTheFlagButDoesNotVerify() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let old = try makeTestCard(handle: "bob"), new = try makeTestCard(handle: "bob")
        _ = try keyring.addContacts([old], as: nil)
        #expect(try keyring.acceptKeyChange(named: "bob") == .notChanged)
        #expect(try !keyring.keyChangeAccepted(named: "bob"))
        _ = try keyring.addContacts([new], as: nil)
        #expect(try keyring.acceptKeyChange(named: "bob") == .accepted)
        let c = try keyring.contact(named: "bob")
        #expect(!c.keyChanged && !c.verified && c.card == new)
        #expect(try keyring.keyChangeAccepted(named: "bob"))
        #expect(try keyring.acceptKeyChange(named: "bob") == .notChanged)
        // Verifying later supersedes the acceptance.
        try keyring.markVerified(named: "bob")
        #expect(try !keyring.keyChangeAccepted(named: "bob"))
        #expect(throws: ContactError.notFound(name: "zed")) { try keyring.acceptKeyChange(named: "zed") }
        #expect(throws: ContactError.notFound(name: "zed")) { try keyring.keyChangeAccepted(named: "zed") }
    }

    @Test func rowsWithoutAcceptedStillDecode() throws {
        let card = try makeTestCard(handle: "bob")
        let json = #"{"added":1,"card":"\#(card.text)","keyChanged":true,"name":"bob","verified":false}"#
        let record = try #require(Array(json.utf8).withUnsafeBytes(ContactRecord.decode))
        #expect(record.accepted == nil && record.keyChanged && record.card == card)
        #expect(String(decoding: try record.legacyJSON(), as: UTF8.self) == json)
    }
}
