import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A room of many members saves its tenure rows several to a statement: every member still gets exactly its own row,
/// sealed under its own key, and the row digest accounts for each.
@Suite(.temporaryFolder) struct TenureRowsTests {
    // With the creator, the room has one member more: 63 rows (one statement each), 64 (one full statement) and 134
    // (two full statements, then six one by one).
    @Test(arguments: [Keyring.tenureRowsPerInsert - 2, Keyring.tenureRowsPerInsert - 1, 2 * Keyring.tenureRowsPerInsert + 5])
    func everyMemberOfARoomHasItsOwnRow(members count: Int) throws {
        let keyring = try ContactBatchReadTests.keyring(contacts: count)
        let names = ContactBatchReadTests.names(0..<count)
        _ = try keyring.createRoom(name: "many", members: names, deliver: { _ in "out" })
        let room = try keyring.room("many")
        #expect(room.state.roster.count == count + 1)
        let tenures = try keyring.read { db in
            try room.state.roster.sorted.map { member in (member, try keyring.storedTenure(db, room.id, member.id)) }
        }
        for (member, tenure) in tenures {
            #expect(tenure?.member == member.id, "\(member.card.handle)")
            #expect(tenure?.stays.map(\.joined) == [0] && tenure?.stays.first?.left == nil, "\(member.card.handle)")
            #expect(tenure?.stays.first?.handle == member.card.handle)
        }
        #expect(try keyring.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM member_tenure") } == count + 1)
        #expect(try keyring.verifyRows() > 0)
        // A removal rewrites only what changed, and the digest still holds.
        _ = try keyring.change(room: "many", [.remove(["c000"])], deliver: { _ in "out" })
        let removed = try #require(tenures.first { $0.0.card.handle == "c000" }).0.id
        #expect(try keyring.read { db in try keyring.storedTenure(db, room.id, removed) }?.stays.first?.left == 1)
        #expect(try keyring.verifyRows() > 0)
    }
}
