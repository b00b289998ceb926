import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// What a keyring records of an applied bundle: the seen digest, made from the stanza hash without a second pass over
/// the stanzas. A keyring that recorded the whole-file hash before it still reports those bundles as duplicates.
@Suite(.temporaryFolder) struct SeenDigestTests {
    /// bob has applied alice's rotation; returns his keyring, the rotation's bytes and its tag under each digest.
    static func applied() throws -> (bob: Keyring, bytes: [UInt8], seen: [UInt8], earlier: [UInt8]) {
        let (alice, bob, written) = try GenerationHistoryTests.pair()
        try GenerationHistoryTests.rotate(alice, "rotation")
        try GenerationHistoryTests.receive(bob, written, "rotation")
        let bytes = try #require(written.files["rotation"])
        return (bob, bytes, bob.tag("bundle", try Bundle.parse(bytes).seenDigest), bob.tag("bundle", BLAKE2b.hash([bytes])))
    }

    static func seenTags(_ k: Keyring) throws -> Set<[UInt8]> {
        try k.read { db in Set(try Data.fetchAll(db, sql: "SELECT bundle_tag FROM seen_bundle").map { Array($0) }) }
    }

    static func receiveAgain(_ bob: Keyring, _ bytes: [UInt8]) throws -> ReceiveStatus {
        let results = try bob.receive([ReceiveInput(path: "again", bytes: bytes)], deliver: { _ in "bob-out" })
        return try #require(results.first).status
    }

    @Test func anAppliedBundleIsRecordedByItsSeenDigestAndIsThenADuplicate() throws {
        let (bob, bytes, seen, earlier) = try Self.applied()
        let tags = try Self.seenTags(bob)
        #expect(tags.contains(seen) && !tags.contains(earlier))
        #expect(try Self.receiveAgain(bob, bytes) == .duplicate)
    }

    /// A keyring written before the seen digest holds the whole-file hash: the same bundle again is still a duplicate,
    /// not a rejected no-op (which exits 2). Without the earlier digest it would be the latter.
    @Test func aBundleRecordedByAnEarlierKeyringIsStillADuplicate() throws {
        let (bob, bytes, seen, earlier) = try Self.applied()
        // As an earlier roomkey wrote it (through the keyring, so its row digests stay true).
        try bob.write { db in
            try db.execute(sql: "UPDATE seen_bundle SET bundle_tag = ? WHERE bundle_tag = ?", arguments: [Data(earlier), Data(seen)])
        }
        #expect(try Self.seenTags(bob).contains(earlier))
        #expect(try Self.receiveAgain(bob, bytes) == .duplicate)
        try bob.write { db in try db.execute(sql: "DELETE FROM seen_bundle WHERE bundle_tag = ?", arguments: [Data(earlier)]) }
        #expect(try Self.receiveAgain(bob, bytes) == .rejected)
    }
}
