import Foundation
import GRDB
import RoomKeyCore

/// The mark a restore leaves on every room (`StoredRoom.restoredBehind`), cleared by the first sync that finds the
/// remote holds no commit past the room's epoch: the keyring has caught up, and from then on a file at its next epoch
/// that only claims to be its own is replaced again (docs/PROTOCOL.md §9.3).
extension Keyring {
    /// Clears the mark of each room of `rooms` whose next epoch's commit path is free at `tip` (nil: an empty remote).
    func settleRestoredRooms(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom]) throws {
        let marked = rooms.filter(\.restoredBehind)
        guard !marked.isEmpty else { return }
        let paths = marked.map { RemoteLayout.commitPath(room: $0.id.hex, epoch: $0.state.epoch &+ 1) }
        let held = try tip.map { try mirror.files(at: $0, under: paths) } ?? [:]
        let caughtUp = zip(marked, paths).filter { held[$0.1] == nil }.map(\.0)
        guard !caughtUp.isEmpty else { return }
        try write { db in
            for room in caughtUp {
                // Only a room still at the epoch looked at: one that moved since is looked at again by the next sync.
                guard var record = try loadRoomRecord(db, room.id), record.restored == true, record.epoch == room.state.epoch else { continue }
                record.restored = nil
                try saveRecord(db, record)
            }
        }
    }

    /// Of the marked `rooms`, those (by id in hex) where the remote holds another member's sender-key file of an epoch
    /// past this keyring's: someone took a later epoch, so a commit file there naming this identity is likely its own
    /// from after the backup, and replacing it would split the room. Where no one did, no one read that file either,
    /// and the restored admin's change may take its place as before.
    func othersAhead(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: IdentityID) throws -> Set<String> {
        guard let tip, !rooms.isEmpty else { return [] }
        // A keys folder too large to list says nothing either way: the file is kept, as where others are ahead.
        guard let files = try? mirror.files(at: tip, under: rooms.map { RemoteLayout.keysFolder($0.id.hex) }, depth: 2) else {
            return Set(rooms.map(\.id.hex))
        }
        let epochs = Dictionary(rooms.map { ($0.id.hex, $0.state.epoch) }, uniquingKeysWith: { a, _ in a })
        var ahead = Set<String>()
        for path in files.keys {
            guard let entry = RemoteLayout.parse(path), case let .senderKey(sender, _) = entry.kind, sender != me.hex,
                  let epoch = epochs[entry.room], entry.epoch > epoch else { continue }
            ahead.insert(entry.room)
        }
        return ahead
    }
}
