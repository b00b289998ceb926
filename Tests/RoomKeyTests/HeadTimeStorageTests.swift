import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// A room row keeps the time of its head commit (`v14-head-time`), so that accepting the next commit need not read the
/// head commit (for a genesis, every member's card) only for its time; a row written before it still works.
@Suite(.temporaryFolder) struct HeadTimeStorageTests {
    typealias History = GenerationHistoryTests

    /// The room row's head time and the time of the stored commit at its epoch, in `k`.
    static func times(_ k: Keyring) throws -> (kept: UInt64?, commit: UInt64?, epoch: UInt64) {
        try k.read { db in
            let id = try k.findRoom(db, "team").id
            let record = try #require(try k.loadRoomRecord(db, id))
            return (record.headTime, try k.storedCommit(db, id, record.epoch)?.time, record.epoch)
        }
    }

    @Test func commitsMadeAndAcceptedKeepTheirTimeInTheRoomRow() throws {
        let (alice, bob, written) = try History.pair()
        for k in [alice, bob] {
            let t = try Self.times(k)
            #expect(t.epoch == 0 && t.kept != nil && t.kept == t.commit)
        }
        _ = try alice.change(room: "team", [.promote("bob")], deliver: { _ in "promote" })
        try History.receive(bob, written, "promote")
        for k in [alice, bob] {
            let t = try Self.times(k)
            #expect(t.epoch == 1 && t.kept != nil && t.kept == t.commit)
        }
    }

    /// A row without the time (as a roomkey before `v14-head-time` wrote it) accepts the next commit from the head
    /// commit's time, and keeps the new head's time from then on.
    @Test func aRowWithoutTheTimeStillAcceptsTheNextCommit() throws {
        let (alice, bob, written) = try History.pair()
        try SchemaUpgradeStorageTests.forgetHeadTimes(bob)
        #expect(try Self.times(bob).kept == nil)
        _ = try alice.change(room: "team", [.promote("bob")], deliver: { _ in "promote" })
        try History.receive(bob, written, "promote")
        let t = try Self.times(bob)
        #expect(t.epoch == 1 && t.kept != nil && t.kept == t.commit)
        try bob.verifyRows()
    }
}
