import Foundation
import GRDB
import RoomKeyCore

/// Rows a migration could not build without the keyring key (tenures, summaries, epoch members) are built after
/// unlock for the rooms a to-do table lists (`scale_backfill`, `epoch_members_backfill`).
extension Keyring {
    /// Runs `build` for every room tag listed in `table`, one transaction per room, taking the room off the list in
    /// the same transaction (a kill leaves it listed, to be built again). Does nothing on a keyring opened read-only.
    /// A room that cannot be built (a full disk, a damaged log) stays listed, with a warning, and the keyring opens all
    /// the same: a listed room's lookups are answered from its log and rosters until a later open builds them.
    func backfillRooms(listedIn table: String, _ build: (Database, [UInt8]) throws -> Void) throws {
        guard readOnlyReason == nil else { return }
        let waiting = try read { db in try Data.fetchAll(db, sql: "SELECT room_tag FROM \(table)").map { Array($0) } }
        for rtag in waiting {
            do {
                try write { db in
                    // Another process that opened the file at the same time may have built it since the list was read.
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE room_tag = ?", arguments: [Data(rtag)]) == true else { return }
                    try build(db, rtag)
                    try db.execute(sql: "DELETE FROM \(table) WHERE room_tag = ?", arguments: [Data(rtag)])
                }
            } catch {
                let reason = (error as? any RoomKeyError)?.message ?? "\(error)"
                openWarnings.append("could not build the lookup rows (\(table)) of a room: \(reason); they are read from the room's log until a later open builds them")
                if case KeyringError.noSpace = error { return }
            }
        }
    }
}
