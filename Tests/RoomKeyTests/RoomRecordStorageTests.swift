import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// The room row's binary form, the JSON form of older rows, and rows that must be refused.
@Suite(.temporaryFolder) struct RoomRecordStorageTests {
    static func record(optionals: Bool, forks: [String] = []) -> RoomRecord {
        RoomRecord(roomID: String(repeating: "ab", count: 16), name: "Räume", epoch: 42, head: String(repeating: "cd", count: 32),
                   forked: !forks.isEmpty, forkHeads: forks, ownGeneration: 7, joinedEpoch: 3,
                   confirmedEpoch: optionals ? 40 : nil, rotationDue: optionals ? true : nil, confirmedEpochs: optionals ? [1, 40] : nil,
                   retentionSeconds: optionals ? 3_600 : nil, rotateMessages: optionals ? 100 : nil, rotateAfterSeconds: optionals ? 60 : nil,
                   left: optionals ? false : nil, requirePQ: optionals ? true : nil, headTime: optionals ? 1_700_000_000 : nil,
                   restored: optionals ? true : nil)
    }

    static func json(_ r: RoomRecord) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(r))
    }

    @Test(arguments: [(false, [String]()), (true, []), (true, ["aa", "bb"]), (false, ["x"])])
    func roundTrips(optionals: Bool, forks: [String]) throws {
        let r = Self.record(optionals: optionals, forks: forks)
        let back = try #require(RoomRecord.decode(r.encoded()))
        #expect(try Self.json(back) == Self.json(r))
        #expect(back.headTime == r.headTime)
        #expect(back.restored == r.restored)
    }

    /// Each edit of a good row, and what it is.
    static let damaged: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
        ("empty", { _ in [] }),
        ("JSON (read by the keyring, not here)", { _ in Array("{}".utf8) }),
        ("unknown version", { [2] + $0.dropFirst() }),
        ("truncated", { Array($0.dropLast()) }),
        ("trailing byte", { $0 + [0] }),
        ("flag that is not 0 or 1 (require post-quantum, before the 8-byte head time and the restored flag)", { var b = $0; b[b.count - 10] = 2; return b }),
        ("flag that is not 0 or 1 (restored, the last byte)", { var b = $0; b[b.count - 1] = 2; return b }),
    ]

    /// A bit of `present` above 9 (0-9 name fields) makes the row unreadable, with or without the known fields.
    @Test(arguments: [(true, 10), (false, 10), (true, 15), (false, 15)])
    func anUnknownOptionalFieldIsRefused(optionals: Bool, bit: Int) {
        var row = Self.record(optionals: optionals).encoded()
        row[1] |= UInt8(1 << (bit - 8))
        #expect(RoomRecord.decode(row) == nil)
    }

    @Test(arguments: damaged.indices)
    func damagedRowsAreRefused(index: Int) {
        let good = Self.record(optionals: true).encoded()
        let (what, edit) = Self.damaged[index]
        #expect(RoomRecord.decode(edit(good)) == nil, "\(what)")
    }

    @Test func aKeyringWithJSONRoomRowsReadsAndRewritesThem() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob")], as: nil)
        _ = try keyring.createRoom(name: "old", members: ["bob"]) { _ in "bundle" }
        let tag = try keyring.read { db in try #require(try Data.fetchOne(db, sql: "SELECT room_tag FROM room")) }
        let record = try keyring.read { db in
            try keyring.openRoomRecord(Array(try #require(try Data.fetchOne(db, sql: "SELECT sealed FROM room"))), tag: Array(tag))
        }
        let sealed = try Self.json(record).withUnsafeBytes { keyring.rows.seal($0, table: "room", primaryKey: Array(tag)) }
        try keyring.write { db in try db.execute(sql: "UPDATE room SET sealed = ?", arguments: [Data(sealed)]) }
        #expect(try keyring.roomListings().map(\.name) == ["old"])
        let reread = try keyring.read { db in try keyring.loadRoomRecord(db, tag: Array(tag)) }
        #expect(try Self.json(try #require(reread)) == Self.json(record))
        try keyring.verifyRows()
    }

    @Test func roomListingsAreSortedByNameThenID() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        _ = try keyring.addContacts([try makeTestCard(handle: "bob")], as: nil)
        for name in ["mid", "Zed", "alpha", "mid2", "Äther"] { _ = try keyring.createRoom(name: name, members: ["bob"]) { _ in "bundle" } }
        #expect(try keyring.roomListings().map(\.name) == ["Zed", "alpha", "mid", "mid2", "Äther"])
    }

    /// Listings of rooms with one name are ordered by id bytes, which must order as the ids' lowercase hex does.
    @Test func roomIDBytesOrderAsTheirHex() throws {
        let random = try SystemRandom()
        let ids = (0..<200).map { _ in RoomID.random(using: random) } + [try RoomID(bytes: [UInt8](repeating: 0, count: 16)),
                                                                          try RoomID(bytes: [UInt8](repeating: 0xff, count: 16))]
        for (a, b) in zip(ids, ids.shuffled()) {
            #expect(a.bytes.lexicographicallyPrecedes(b.bytes) == (a.hex < b.hex))
            // Two rooms with one name (joined from different admins) list in the order of their ids' hex.
            #expect(RoomListing.precedes(("same", a), ("same", b)) == (a.hex < b.hex))
            #expect(RoomListing.precedes(("a", b), ("b", a)))
        }
        let sorted = ids.map { ("same", $0) }.sorted { RoomListing.precedes($0, $1) }.map(\.1.hex)
        #expect(sorted == ids.map(\.hex).sorted())
    }
}
