import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A member who rotated many times in one epoch: storing, receiving and using the newest generation opens a fixed
/// number of sender-key rows, not one per earlier generation (3,000 rotations made each `receive` and `rotate` cost
/// 0.17 and 0.32 s), and the retention ledger still lists every superseded generation and only those.
@Suite(.temporaryFolder) struct GenerationHistoryTests {
    static let earlier = 40

    /// alice and bob in a room; alice's bundles are kept by the name she gave them.
    static func pair() throws -> (alice: Keyring, bob: Keyring, written: OutboxBundleTests.Written) {
        let alice = try KeyringTests.create(passphrase: nil), bob = try KeyringTests.create("bob", passphrase: nil)
        _ = try alice.addContacts([try bob.identityCard()], as: nil)
        _ = try bob.addContacts([try alice.identityCard()], as: nil)
        let written = OutboxBundleTests.Written()
        alice.sink = OutboxBundleTests.sink(written)
        _ = try alice.createRoom(name: "team", members: ["bob"], deliver: { _ in "genesis" })
        try receive(bob, written, "genesis")
        return (alice, bob, written)
    }

    static func receive(_ bob: Keyring, _ written: OutboxBundleTests.Written, _ names: String...) throws {
        let inputs = try names.map { ReceiveInput(path: $0, bytes: try #require(written.files[$0])) }
        for result in try bob.receive(inputs, deliver: { _ in "bob-out" }) { #expect(result.status == .applied, "\(result.path)") }
    }

    static func rotate(_ alice: Keyring, _ name: String) throws {
        _ = try alice.rotate(room: "team", deliver: { _ in name })
    }

    /// Tags (hex) of `owner`'s stored keys in the room, and those the room's ledger lists as superseded.
    static func tags(_ k: Keyring, owner: IdentityID) throws -> (all: [UInt32: String], retired: Set<String>) {
        try k.read { db in
            let room = try k.findRoom(db, "team")
            var all: [UInt32: String] = [:]
            for info in try k.senderKeyInfos(db, room.id) where info.owner == owner {
                all[info.generation] = Hex.encode(k.senderKeyTag(room.id, owner: owner, keyID: info.keyID))
            }
            return (all, try k.retiredKeyTags(db, room.id))
        }
    }

    @Test func theNextRotationOpensAFixedNumberOfRows() throws {
        let (alice, _, _) = try Self.pair()
        for i in 0..<Self.earlier { try Self.rotate(alice, "r\(i)") }
        alice.senderKeyRowsOpened = 0
        try Self.rotate(alice, "next")
        #expect(alice.senderKeyRowsOpened <= 4)
        // Every generation but the newest is superseded, and the newest is not.
        let (all, retired) = try Self.tags(alice, owner: try alice.identityCard().id)
        #expect(all.count == Self.earlier + 2)
        let newest = try #require(all.keys.max())
        #expect(retired == Set(all.filter { $0.key != newest }.values))
    }

    @Test func theNextEncryptOpensAFixedNumberOfRows() throws {
        let (alice, _, _) = try Self.pair()
        for i in 0..<Self.earlier { try Self.rotate(alice, "r\(i)") }
        alice.senderKeyRowsOpened = 0
        _ = try alice.encryptBatch(room: "team", plaintexts: [Array("hello".utf8)], deliverBundle: { _ in "unused" })
        #expect(alice.senderKeyRowsOpened <= 4)
    }

    @Test func receivingTheNextGenerationOpensAFixedNumberOfRows() throws {
        let (alice, bob, written) = try Self.pair()
        for i in 0..<Self.earlier { try Self.rotate(alice, "r\(i)") }
        for i in 0..<Self.earlier { try Self.receive(bob, written, "r\(i)") }
        try Self.rotate(alice, "next")
        bob.senderKeyRowsOpened = 0
        try Self.receive(bob, written, "next")
        #expect(bob.senderKeyRowsOpened <= 4)
        let (all, retired) = try Self.tags(bob, owner: try alice.identityCard().id)
        let newest = try #require(all.keys.max())
        #expect(retired == Set(all.filter { $0.key != newest }.values))
    }

    @Test func aGenerationThatArrivesLateIsSupersededAtOnce() throws {
        let (alice, bob, written) = try Self.pair()
        for i in 0..<5 { try Self.rotate(alice, "r\(i)") }
        try Self.receive(bob, written, "r0", "r1", "r3", "r4")
        try Self.receive(bob, written, "r2")
        let (all, retired) = try Self.tags(bob, owner: try alice.identityCard().id)
        let newest = try #require(all.keys.max())
        #expect(all.count == 6)
        #expect(retired == Set(all.filter { $0.key != newest }.values))
    }

    /// The room's retention ledger is the same size after 2 rotations and after 42, on both sides: superseded
    /// generations are rows of their own (it grew by a listed generation per rotation, and every stored key read,
    /// rewrote and sealed it again).
    @Test func theLedgerDoesNotGrowWithRotations() throws {
        let (alice, bob, written) = try Self.pair()
        func size(_ k: Keyring) throws -> Int { try k.read { db in try Int.fetchOne(db, sql: "SELECT length(sealed) FROM key_retention") ?? 0 } }
        for i in 0..<2 { try Self.rotate(alice, "r\(i)") }
        try Self.receive(bob, written, "r0", "r1")
        let (aliceBefore, bobBefore) = (try size(alice), try size(bob))
        for i in 2..<(Self.earlier + 2) { try Self.rotate(alice, "r\(i)") }
        for i in 2..<(Self.earlier + 2) { try Self.receive(bob, written, "r\(i)") }
        #expect(try size(alice) == aliceBefore)
        #expect(try size(bob) == bobBefore)
        let (all, retired) = try Self.tags(bob, owner: try alice.identityCard().id)
        #expect(all.count == Self.earlier + 3 && retired.count == Self.earlier + 2)
    }

    /// A keyring from before `retired_key`: its ledger lists the superseded generations (version 1) and no head is
    /// kept. The next key stored moves the list into rows and settles the keys not listed once; retention then
    /// deletes every superseded key and keeps the newest.
    @Test func generationsAnOlderLedgerListsBecomeRowsAndExpire() throws {
        let (alice, bob, written) = try Self.pair()
        for i in 0..<3 { try Self.rotate(alice, "r\(i)") }
        try Self.receive(bob, written, "r0", "r1", "r2")
        let owner = try alice.identityCard().id
        let (before, retired) = try Self.tags(bob, owner: owner)
        #expect(retired.count == 3)
        try bob.write { db in
            let room = try bob.findRoom(db, "team")
            var ledger = try #require(try bob.loadLedger(db, room.id))
            ledger.nextKeyExpiry = nil
            ledger.keys = retired.sorted().map { .init(tag: $0, epoch: room.state.epoch, at: 1) }
            try db.execute(sql: "DELETE FROM sender_key_head; DELETE FROM retired_key")
            let rtag = bob.roomTag(room.id)
            let sealed = ledger.encoded.withUnsafeBytes { bob.rows.seal($0, table: "key_retention", primaryKey: rtag) }
            try db.execute(sql: "UPDATE key_retention SET sealed = ? WHERE room_tag = ?", arguments: [Data(sealed), Data(rtag)])
        }
        #expect(try bob.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM retired_key") } == 0)
        try Self.rotate(alice, "next")
        try Self.receive(bob, written, "next")
        let (all, nowRetired) = try Self.tags(bob, owner: owner)
        #expect(all.count == before.count + 1)
        let newest = try #require(all.keys.max())
        #expect(nowRetired == Set(all.filter { $0.key != newest }.values))
        #expect(try bob.read { db in try bob.loadLedger(db, bob.findRoom(db, "team").id)?.keys.isEmpty } == true)
        let pruned = try bob.pruneExpired(olderThan: 0)
        #expect(pruned.senderKeys == before.count)
        #expect(try Self.tags(bob, owner: owner).all.keys.sorted() == [newest])
    }

    /// Stores keys of `owner` in bob's room, one per generation listed (as a member signing whatever it likes could).
    static func storeKeys(_ bob: Keyring, owner: IdentityID, generations: [UInt32]) throws {
        try bob.write { db in
            let room = try bob.findRoom(db, "team")
            for generation in generations {
                let key = try OwnSenderKey.generate(roomID: room.id, owner: owner, epoch: room.state.epoch, generation: generation,
                                                    random: SystemRandom())
                try bob.storeSenderKey(db, key.shared, signingSecret: SecretBytes(zeroed: 0))
            }
        }
    }

    static func generations(_ k: Keyring, owner: IdentityID) throws -> [UInt32] {
        try k.read { db in try k.senderKeyInfos(db, k.findRoom(db, "team").id).filter { $0.owner == owner }.map(\.generation).sorted() }
    }

    /// A member who signs more keys of one generation than a head lists: the extra ones are superseded at once, so
    /// retention deletes every key below the newest generation (found by review: the 65th outlived retention).
    @Test func keysOfOneGenerationBeyondTheHeadAreDeletedOnTime() throws {
        let (alice, bob, _) = try Self.pair()
        let owner = try alice.identityCard().id
        try Self.storeKeys(bob, owner: owner, generations: Array(repeating: 5, count: GenerationHead.maxTags + 1) + [6])
        _ = try bob.pruneExpired(olderThan: 0)
        #expect(try Self.generations(bob, owner: owner) == [6])
    }

    /// Rows of deleted keys in an epoch that never ends are bounded per room, the oldest forgotten first, as the
    /// version 1 ledger's list was (found by review: a row per rotation was kept for good).
    @Test func rowsOfDeletedKeysAreBoundedPerRoom() throws {
        let (alice, bob, _) = try Self.pair()
        let owner = try alice.identityCard().id
        let n = RetentionLedger.maxDeleted + 100
        try Self.storeKeys(bob, owner: owner, generations: (1...UInt32(n)).map { $0 })
        let oldest = try bob.read { db in try Data.fetchOne(db, sql: "SELECT key_tag FROM retired_key ORDER BY rowid LIMIT 1") }
        _ = try bob.pruneExpired(olderThan: 0)
        #expect(try Self.generations(bob, owner: owner) == [UInt32(n)])
        #expect(try bob.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM retired_key WHERE deleted = 1") } == RetentionLedger.maxDeleted)
        let tag = try #require(oldest)
        #expect(try bob.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM retired_key WHERE key_tag = ?", arguments: [tag]) } == 0)
    }
}
