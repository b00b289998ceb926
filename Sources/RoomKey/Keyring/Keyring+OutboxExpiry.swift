import Foundation
import GRDB
import RoomKeyCore

extension Keyring {
    /// Deletes the delivered entries `OutboxHistory.expiresEarly` lets go (sender keys of epochs past their room's
    /// retention); returns how many. It reads every kept entry's small row, each room's row once, and the commit that
    /// ended each epoch once.
    func pruneExpiredKeyEntries(_ db: Database, now time: UInt64) throws -> Int {
        var rooms: [String: (id: RoomID, record: RoomRecord)] = [:]
        var gone = Set<String>()
        var expiredEpochs: [String: Bool] = [:]
        var expired: [[UInt8]] = []
        // Only entries the rule could let go once their keys expire are looked into (rooms and commits are read for those).
        let candidates = try outboxRecords(db).filter {
            OutboxHistory.expiresEarly(kind: $0.record.kind, delivered: $0.record.delivered != nil, keysExpired: true)
        }
        for (tag, entry) in candidates {
            if rooms[entry.roomID] == nil, !gone.contains(entry.roomID) {
                if let id = try? RoomID(bytes: Hex.decode(entry.roomID, what: "room id")), let record = try loadRoomRecord(db, id) {
                    rooms[entry.roomID] = (id, record)
                } else {
                    gone.insert(entry.roomID)
                }
            }
            guard let (id, room) = rooms[entry.roomID] else { continue }
            let key = "\(entry.roomID) \(entry.epoch)"
            if expiredEpochs[key] == nil {
                let ended = entry.epoch < room.epoch ? try storedCommit(db, id, entry.epoch + 1)?.time : nil
                expiredEpochs[key] = RemoteLayout.keysExpired(epoch: entry.epoch, current: room.epoch, retention: room.retention,
                                                              now: time, ended: ended)
            }
            if expiredEpochs[key] == true { expired.append(tag) }
        }
        try deleteOutboxEntries(db, tags: expired)
        return expired.count
    }
}
