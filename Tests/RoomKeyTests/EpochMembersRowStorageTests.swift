import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// `epoch_members` rows: a commit that changes a few members stores them as changes to an earlier whole row, so the
/// table grows with what commits change, not with members × commits (a hostile review grew a keyring to 540 MB with
/// 1,000 tiny commits in a room of 10,000); every epoch still reads back as its roster's members.
@Suite(.temporaryFolder) struct EpochMembersRowStorageTests {
    /// The sealed size of every stored row of `room`, by epoch.
    static func rowSizes(_ keyring: Keyring, _ room: StoredRoom) throws -> [Int] {
        try RosterRowStorageTests.sealedSizes(keyring, room, table: "epoch_members") { keyring.epochMembersTag(room.id, $0) }
    }

    static func expectEveryEpochReadsBack(_ keyring: Keyring, _ room: StoredRoom) throws {
        try keyring.read { db in
            for e in 0...room.state.epoch {
                let roster = try #require(try keyring.epochRoster(db, room.id, e))
                #expect(try keyring.epochMembers(db, room.id, e) == EpochMembers(roster: roster), "epoch \(e)")
            }
        }
    }

    /// alice's room of 150 contacts after 80 commits: role changes, removals, additions and members coming back.
    static func agedRoom() throws -> (Keyring, StoredRoom) {
        let keyring = try ContactBatchReadTests.keyring(contacts: 160)
        _ = try keyring.createRoom(name: "team", members: ContactBatchReadTests.names(0..<150), deliver: { _ in "out" })
        var admin = false
        for k in 0..<80 {
            if k % 8 != 3, k % 8 != 5, k % 8 != 7 { admin.toggle() }
            let change: MembershipChange = switch k % 8 {
            case 3: .remove(["c\(String(format: "%03d", 10 + k / 8))"])
            case 5: .add(["c\(String(format: "%03d", 150 + k / 8))"])
            case 7: .add(["c\(String(format: "%03d", 10 + k / 8))"])
            default: admin ? .promote("c000") : .demote("c000")
            }
            _ = try keyring.change(room: "team", [change], deliver: { _ in "out" })
        }
        return (keyring, try keyring.room("team"))
    }

    @Test func fewChangesAreStoredAsChanges() throws {
        let (keyring, room) = try Self.agedRoom()
        #expect(room.state.epoch == 80)
        let sizes = try Self.rowSizes(keyring, room)
        let whole = sizes[0]
        #expect(whole > 150 * 48)
        // √(2 × 151) ≈ 17 changes per delta, one a commit at most here: a whole row about every 17 commits.
        let wholeRows = sizes.filter { $0 >= whole - 30 * 48 }.count
        #expect(wholeRows >= 2 && wholeRows <= 8, "\(sizes)")
        #expect(sizes.reduce(0, +) < 10 * whole, "\(sizes)")
        try Self.expectEveryEpochReadsBack(keyring, room)
        #expect(try keyring.verifyRows() > 0)
    }

    /// A keyring whose rows are all whole (as a roomkey before `v16-epoch-member-changes` wrote them) has them
    /// written again as changes when it is opened with the room listed, and reads the same members.
    @Test func wholeRowsFromBeforeAreWrittenAgainAsChanges() throws {
        let (keyring, room) = try Self.agedRoom()
        let compact = try Self.rowSizes(keyring, room)
        try keyring.write { db in
            for e in 0...room.state.epoch {
                let members = EpochMembers(roster: try #require(try keyring.epochRoster(db, room.id, e)))
                let etag = keyring.epochMembersTag(room.id, e)
                let sealed = members.encoded.withUnsafeBytes { keyring.rows.seal($0, table: "epoch_members", primaryKey: etag) }
                try db.execute(sql: "UPDATE epoch_members SET sealed = ? WHERE epoch_tag = ?", arguments: [Data(sealed), Data(etag)])
            }
            try db.execute(sql: "INSERT INTO epoch_members_backfill (room_tag) SELECT room_tag FROM room")
        }
        #expect(try Self.rowSizes(keyring, room).reduce(0, +) > 40 * compact[0])
        try Self.expectEveryEpochReadsBack(keyring, room)
        let reopened = try WriteAheadTests.reopened(keyring)
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM epoch_members_backfill") } == 0)
        #expect(try Self.rowSizes(reopened, room) == compact)
        try Self.expectEveryEpochReadsBack(reopened, room)
    }

    /// A delta whose base row is gone, or whose base is itself a delta, is a damaged keyring, never a list of members.
    @Test func aDeltaIsReadOnlyOnAWholeBase() throws {
        let (keyring, room) = try Self.agedRoom()
        let sizes = try Self.rowSizes(keyring, room)
        let delta = try #require(sizes.indices.last { sizes[$0] < sizes[0] / 2 && sizes[$0 - 1] < sizes[0] / 2 })
        try keyring.write { db in
            // The row before (a delta too) takes the place of this one's base.
            let plain = try #require(try keyring.epochMembersRowBytes(db, room.id, UInt64(delta - 1)))
            guard case let .delta(d) = try EpochMembersRow.parse(plain) else { Issue.record("not a delta"); return }
            let btag = keyring.epochMembersTag(room.id, d.base)
            let sealed = plain.withUnsafeBytes { keyring.rows.seal($0, table: "epoch_members", primaryKey: btag) }
            try db.execute(sql: "UPDATE epoch_members SET sealed = ? WHERE epoch_tag = ?", arguments: [Data(sealed), Data(btag)])
        }
        #expect(throws: KeyringError.integrityFailure(table: "epoch_members")) {
            try keyring.read { db in try keyring.epochMembers(db, room.id, UInt64(delta)) }
        }
    }
}
