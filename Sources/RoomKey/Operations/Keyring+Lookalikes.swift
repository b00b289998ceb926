import GRDB
import RoomKeyCore

extension Keyring {
    /// For each card that would be filed under a new name: why its name (and its handle, when filed under another
    /// name) may be mistaken for the owner's handle, a contact's name or handle, or an earlier card of the same input
    /// (`Lookalikes.confusions`). Cards for a name already stored are not checked again: that name was accepted before.
    func lookalikes(_ cards: [IdentityCard], as name: String?, own: IdentityCard) throws -> [IdentityID: [String]] {
        let contacts = try contactNames()
        let storedNames = Set(contacts.map(\.name))
        var index = LookalikeIndex<IdentityID>()
        index.add(own.handle, owner: own.id)
        for c in contacts {
            index.add(c.name, owner: c.id)
            if c.handle != c.name { index.add(c.handle, owner: c.id) }
        }
        var found: [IdentityID: [String]] = [:]
        for card in cards {
            let filedAs = name ?? card.handle
            let candidates = filedAs == card.handle ? [filedAs] : [filedAs, card.handle]
            if !storedNames.contains(filedAs) {
                let descriptions = candidates.flatMap { index.confusions(of: $0, owner: card.id).descriptions }
                if !descriptions.isEmpty { found[card.id] = descriptions }
            }
            for candidate in candidates { index.add(candidate, owner: card.id) }
        }
        return found
    }
}

/// The names of the rooms held here, by skeleton: anyone may make a room and name it, and one named like a room the
/// user knows (the same name, or "tеam" with a Cyrillic е beside "team") reads as that room in every line that names it.
struct RoomNameIndex {
    /// The most held rooms a warning names.
    static let namedRooms = 5
    private var bySkeleton: [String: [(name: String, id: RoomID)]] = [:]

    /// Records that room `id` is named `name` (once: the first room new in a receive is in the rooms read, and added).
    mutating func add(_ name: String, id: RoomID) {
        let skeleton = Lookalikes.skeleton(name)
        guard !(bySkeleton[skeleton] ?? []).contains(where: { $0.id == id }) else { return }
        bySkeleton[skeleton, default: []].append((name, id))
    }

    /// A warning naming the held rooms other than `id` whose name is `name` or looks like it, or nil.
    func warning(name: String, id: RoomID) -> String? {
        let alike = (bySkeleton[Lookalikes.skeleton(name)] ?? []).filter { $0.id != id }
        guard !alike.isEmpty else { return nil }
        // The advice first and the list cut (a review: 120 rooms named alike cut the advice off every long line, and
        // the text grew with the square of the rooms).
        let held = alike.sorted { RoomListing.precedes($0, $1) }.prefix(Self.namedRooms).map { "\(SafeText.quotedList([$0.name])) (\($0.id.hex))" }
        let more = alike.count > Self.namedRooms ? " and \(alike.count - Self.namedRooms) more" : ""
        return "the new room \(SafeText.quotedList([name])) (\(id.hex)) is another room than the one named like it here: "
            + "compare 'roomkey room fingerprint \(id.hex)' with members you trust; named like it: \(held.joined(separator: "; "))\(more)"
    }
}

extension Keyring {
    /// Every held room's name, indexed by skeleton.
    func roomNameIndex() throws -> RoomNameIndex {
        try read { db in
            var index = RoomNameIndex()
            for tag in try roomTags(db) {
                if let (record, id) = try loadRoomRecordAndID(db, tag: tag) { index.add(record.name, id: id) }
            }
            return index
        }
    }
}
