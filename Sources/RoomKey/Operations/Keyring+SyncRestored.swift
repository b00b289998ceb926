import Foundation
import GRDB
import RoomKeyCore

/// The mark a restore leaves on every room (`StoredRoom.restoredBehind`), cleared by the first sync that finds the
/// remote holds nothing at the room's next epoch: the keyring has caught up, and from then on a file there that only
/// claims to be its own is replaced again (docs/PROTOCOL.md §9.3).
extension Keyring {
    /// How many other members' sender-key files of later epochs a sync opens per marked room, looking for one that
    /// proves a later epoch exists (`othersAhead`): taken a known sender at a time, each sender's files in an order
    /// the remote cannot foresee, each file's bytes once.
    static let restoredEvidenceFiles = 256
    /// How many senders that are not in the room's roster a sync looks up among the contacts per marked room.
    static let restoredContactLookups = 256

    /// Clears the mark of each room of `rooms` whose next epoch's commit path holds nothing at `tip` (nil: an empty
    /// remote): neither a file nor a folder (a folder there, then the file put back, cleared it for good, a review).
    /// `rooms` is updated to match, so the sync goes on without loading them again.
    func settleRestoredRooms(_ mirror: GitMirror, tip: String?, rooms: inout [StoredRoom]) throws {
        let marked = rooms.indices.filter { rooms[$0].restoredBehind }
        guard !marked.isEmpty else { return }
        let paths = marked.map { RemoteLayout.commitPath(room: rooms[$0].id.hex, epoch: rooms[$0].state.epoch &+ 1) }
        let held = try tip.map { try mirror.files(at: $0, under: paths) } ?? [:]
        let folders = try tip.map { try mirror.treeIDs(at: $0, paths) } ?? [:]
        let caughtUp = zip(marked, paths).filter { held[$0.1] == nil && folders[$0.1] == nil }.map(\.0)
        guard !caughtUp.isEmpty else { return }
        let cleared = try write { db -> [Int] in
            try caughtUp.filter { index in
                // Only a room still at the epoch looked at: one that moved since is looked at again by the next sync.
                let room = rooms[index]
                guard var record = try loadRoomRecord(db, room.id), record.restored == true, record.epoch == room.state.epoch else { return false }
                record.restored = nil
                try saveRecord(db, record)
                return true
            }
        }
        for index in cleared { rooms[index].restoredBehind = false }
    }

    /// Of the marked `rooms`, those (by id in hex) where the remote proves that another member took an epoch past this
    /// keyring's: a sender-key bundle of that epoch, at its own path, from an identity this keyring knows (a member of
    /// the room here, or a contact: the lost commit may have added it), that opens for this keyring and whose signature
    /// verifies under that identity's card. A commit file at the next epoch naming this identity is then likely its own
    /// from after the backup, and replacing it would split the room. A path name or an unopened file proves nothing (a
    /// review: a pusher's noise at the next epoch and a file under any name in a later epoch's folder froze every
    /// admin's changes); where nothing proves it, the file is replaced as before. Junk must not crowd out the proof
    /// (three reviews: junk files whose blob ids sorted first under one member's name, then under 32 made-up names, hid
    /// every real key and the room split): only known senders' files are taken, a sender at a time, each sender's in
    /// an order keyed by a random salt of this sync (not by epoch or name), each blob once, up to
    /// `restoredEvidenceFiles` a room.
    func othersAhead(_ mirror: GitMirror, tip: String?, rooms: [StoredRoom], me: borrowing LocalIdentity) throws -> Set<String> {
        guard let tip, !rooms.isEmpty else { return [] }
        // A keys folder too large to list proves nothing either.
        guard let files = try? mirror.files(at: tip, under: rooms.map { RemoteLayout.keysFolder($0.id.hex) }, depth: 2) else { return [] }
        let byHex = Dictionary(rooms.map { ($0.id.hex, $0) }, uniquingKeysWith: { a, _ in a })
        var bySender: [String: [String: [(epoch: UInt64, blob: String)]]] = [:]
        for (path, blob) in files {
            guard let entry = RemoteLayout.parse(path), case let .senderKey(sender, _) = entry.kind, sender != me.id.hex,
                  let room = byHex[entry.room], entry.epoch > room.state.epoch else { continue }
            bySender[entry.room, default: [:]][sender, default: []].append((entry.epoch, blob))
        }
        let salt = random.bytes(16)
        func rank(_ blob: String) -> [UInt8] { BLAKE2b.hash([salt, Array(blob.utf8)]) }
        var chosen: [String: [(sender: IdentityCard, epoch: UInt64, blob: String)]] = [:]
        for (roomHex, senders) in bySender {
            guard let room = byHex[roomHex] else { continue }
            // Known senders only: the room's members, and, up to a bound of lookups, contacts (made-up names are neither).
            let members = Dictionary(room.state.roster.sorted.map { ($0.id.hex, $0.card) }, uniquingKeysWith: { a, _ in a })
            var known: [(card: IdentityCard, files: [(epoch: UInt64, blob: String)])] = []
            var lookups = 0
            let order = senders.map { (sender: $0.key, files: $0.value, rank: rank($0.key)) }.sorted { $0.rank.lexicographicallyPrecedes($1.rank) }
            for (sender, list, _) in order {
                var card = members[sender]
                if card == nil, lookups < Self.restoredContactLookups, let id = try? IdentityID(bytes: Hex.decode(sender, what: "identity id")) {
                    lookups += 1
                    card = try read { db in try fetchContact(db, id: id)?.card }
                }
                guard let card else { continue }
                // In an order the remote cannot foresee: junk named to sort first (by epoch or by blob id) is not first.
                let ranked = list.map { (file: $0, rank: rank($0.blob)) }.sorted { $0.rank.lexicographicallyPrecedes($1.rank) }
                known.append((card, ranked.map(\.file)))
            }
            var picked: [(sender: IdentityCard, epoch: UInt64, blob: String)] = []
            // Each blob once for an epoch (a copy of a real key in another epoch's folder must not hide the real one).
            var blobs = Set<String>()
            var round = 0
            while picked.count < Self.restoredEvidenceFiles, known.contains(where: { $0.files.count > round }) {
                for (card, list) in known where list.count > round && picked.count < Self.restoredEvidenceFiles {
                    let file = list[round]
                    if blobs.insert("\(file.epoch) \(file.blob)").inserted { picked.append((card, file.epoch, file.blob)) }
                }
                round += 1
            }
            chosen[roomHex] = picked
        }
        let batch = try mirror.readBlobs(chosen.values.flatMap { $0.map(\.blob) }, limit: syncFileLimit, budget: syncByteBudget)
        var ahead = Set<String>()
        for (roomHex, list) in chosen {
            guard let room = byHex[roomHex] else { continue }
            for c in list {
                guard let bytes = batch.bytes[c.blob], let bundle = try? Bundle.parse(bytes), bundle.roomID == room.id,
                      bundle.epoch == c.epoch, bundle.sender == c.sender.id,
                      let content = try? open(bundle, me: me), (try? content.verify(signer: c.sender.signingKey)) != nil else { continue }
                ahead.insert(roomHex)
                break
            }
        }
        return ahead
    }
}
