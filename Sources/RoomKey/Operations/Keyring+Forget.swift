import Foundation
import GRDB
import RoomKeyCore

extension Keyring {
    /// `room forget`: deletes every row this keyring holds about a room (its log, rosters, tenures, sender keys, waiting
    /// and seen bundles, outbox entries, staged changes, remote and summary), in one transaction, with an audit entry.
    ///
    /// Messages of the room can no longer be read here, and the room can be received again from its genesis (any later
    /// bundle of it brings it back): the way back into a real room for a member who first took a made-up genesis that
    /// reused its room id (PROTOCOL §5.4), and the way to drop a room's state. Bundle files already written are left.
    /// Bundles recorded but not written yet are written first; one of the room's that still cannot be written stops the
    /// forget (deleting it silently left the room's members at the epoch before it, for good: a review). Nothing new is
    /// made: a sender key owed in the room is dropped with it (a review of the first version, which settled the whole
    /// outbox and so sent a new key for the room it was forgetting). Returns the room as it was.
    public func forgetRoom(_ nameOrID: String) throws -> StoredRoom {
        // A failed write is reported at the end, as the room's own refusal or as a warning for another room's entry.
        do { try flushOutbox(ownOnly: true) } catch let error as any RoomKeyError { onWarning?(error.message) }
        return try write { db in
            let room = try findRoom(db, nameOrID)
            let unsent = try undeliveredEpochs(db, roomID: room.id)
            if !unsent.isEmpty { throw OutboxError.unsentBeforeForget(room: room.name, epochs: Array(Set(unsent)).sorted()) }
            let tag = Data(roomTag(room.id))
            try forgetRoomRows(db, roomTag: tag)
            try forgetRosterRows(db, roomTag: tag)
            try forgetEpochMembers(db, roomTag: tag)
            try forgetTenures(db, roomTag: tag)
            try forgetSenderKeys(db, roomTag: tag)
            try forgetKeyGenerations(db, roomTag: tag)
            try forgetRetention(db, roomTag: tag)
            try forgetBundlesSeen(db, roomTag: tag)
            try forgetBundleRecords(db, roomTag: tag)
            try forgetSummary(db, roomTag: tag)
            try forgetRoomRemote(db, roomTag: tag, roomID: room.id)
            try forgetStaged(db, roomTag: tag)
            try forgetOutbox(db, roomTag: tag, roomID: room.id)
            try audit(db, .roomForget, "\(Self.auditRoom(room.name, room.id)) forgotten at epoch \(room.state.epoch), head \(Hex.encode(room.state.head))")
            return room
        }
    }
}
