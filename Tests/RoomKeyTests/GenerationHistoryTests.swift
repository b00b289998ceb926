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
            return (all, Set(try k.loadLedger(db, room.id)?.keys.map(\.tag) ?? []))
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
}
