import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// What a keyring records of an applied bundle: the seen digest, made from the stanza hash without a second pass over
/// the stanzas. Bundles a keyring recorded before it, by the whole-file hash (moved to `seen_bundle_whole` by migration
/// `v12-seen-digest`), are still duplicates; and a batch is received once.
@Suite(.temporaryFolder) struct SeenDigestTests {
    /// bob has applied alice's rotation; returns his keyring, the rotation's bytes and its tag under each digest.
    static func applied() throws -> (bob: Keyring, bytes: [UInt8], seen: [UInt8], earlier: [UInt8]) {
        let (alice, bob, written) = try GenerationHistoryTests.pair()
        try GenerationHistoryTests.rotate(alice, "rotation")
        try GenerationHistoryTests.receive(bob, written, "rotation")
        let bytes = try #require(written.files["rotation"])
        return (bob, bytes, bob.tag("bundle", try Bundle.parse(bytes).seenDigest), bob.tag("bundle", BLAKE2b.hash([bytes])))
    }

    static func seenTags(_ k: Keyring, table: String = "seen_bundle") throws -> Set<[UInt8]> {
        try k.read { db in Set(try Data.fetchAll(db, sql: "SELECT bundle_tag FROM \(table)").map { Array($0) }) }
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

    /// A keyring written before the seen digest recorded the whole-file hash, which `v12-seen-digest` moved to
    /// `seen_bundle_whole`: the same bundle again is still a duplicate, not a rejected no-op (which exits 2).
    @Test func aBundleRecordedByAnEarlierKeyringIsStillADuplicate() throws {
        let (bob, bytes, seen, earlier) = try Self.applied()
        // As the migration leaves an earlier roomkey's row (through the keyring, so its row digests stay true).
        try bob.write { db in
            try db.execute(sql: "DELETE FROM seen_bundle WHERE bundle_tag = ?", arguments: [Data(seen)])
            try db.execute(sql: "INSERT INTO seen_bundle_whole (bundle_tag, room_tag) SELECT ?, room_tag FROM room",
                           arguments: [Data(earlier)])
        }
        #expect(try Self.seenTags(bob, table: "seen_bundle_whole") == [earlier])
        #expect(try Self.receiveAgain(bob, bytes) == .duplicate)
        try bob.write { db in try db.execute(sql: "DELETE FROM seen_bundle_whole") }
        #expect(try Self.receiveAgain(bob, bytes) == .rejected)
    }

    /// The migration moves every row there: what was in `seen_bundle` is in `seen_bundle_whole`, and `seen_bundle` is
    /// left for seen digests.
    @Test func theMigrationMovesEarlierRowsAside() throws {
        let migrator = KeyringSchema.migrator
        let db = try DatabaseQueue()
        try migrator.migrate(db, upTo: "v11-tenure-order")
        try db.write { db in
            try db.execute(sql: "INSERT INTO seen_bundle (bundle_tag, room_tag) VALUES (x'01', x'aa'), (x'02', x'bb')")
        }
        try migrator.migrate(db)
        try db.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM seen_bundle") == 0)
            let moved = try Row.fetchAll(db, sql: "SELECT bundle_tag, room_tag FROM seen_bundle_whole ORDER BY bundle_tag")
            #expect(moved.map { Array($0["bundle_tag"] as Data) } == [[1], [2]])
            #expect(moved.map { Array($0["room_tag"] as Data) } == [[0xaa], [0xbb]])
        }
    }

    /// A queued bundle's whole-file hash is made once: a bundle that waits is retried each time another applies.
    @Test func theWholeFileHashIsMadeOnce() throws {
        let hash = Keyring.WholeFileHash()
        let first = try hash.of(ReceiveInput(path: "a", bytes: [1, 2, 3]))
        #expect(first == BLAKE2b.hash([[1, 2, 3]]))
        // Kept: asked again (even with other bytes, which no caller does) it is not made again.
        #expect(try hash.of(ReceiveInput(path: "b", bytes: [4, 5, 6])) == first)
    }

    /// A batch is received once: a second `receive` of it throws instead of finding its bundles gone.
    @Test func aBatchIsReceivedOnce() throws {
        let (alice, bob, written) = try GenerationHistoryTests.pair()
        try GenerationHistoryTests.rotate(alice, "rotation")
        let batch = ReceiveBatch([ReceiveInput(path: "rotation", bytes: try #require(written.files["rotation"]))])
        #expect(try bob.receive(batch, deliver: { _ in "bob-out" }).map(\.status) == [.applied])
        #expect(throws: ReceiveBatch.Failure.alreadyReceived) { _ = try bob.receive(batch, deliver: { _ in "bob-out" }) }
    }
}
