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

extension Keyring {
    /// For a room new here: a warning naming the rooms held here whose name is its name, or looks like it (same UTS #39
    /// skeleton, as "tеam" with a Cyrillic е and "team"). Anyone may make a room and name it; one named like a room
    /// the user knows is read as that room in every line that names it ("in room team").
    func roomNameWarning(_ db: Database, name: String, id: RoomID) throws -> String? {
        let skeleton = Lookalikes.skeleton(name)
        var alike: [(name: String, id: RoomID)] = []
        for tag in try roomTags(db) {
            guard let (record, other) = try loadRoomRecordAndID(db, tag: tag), other != id else { continue }
            if record.name == name || Lookalikes.skeleton(record.name) == skeleton { alike.append((record.name, other)) }
        }
        guard !alike.isEmpty else { return nil }
        let held = alike.sorted { RoomListing.precedes($0, $1) }.map { "\(SafeText.quotedList([$0.name])) (\($0.id.hex))" }
        return "the new room \(SafeText.quotedList([name])) (\(id.hex)) is named like your room \(held.joined(separator: ", ")): "
            + "it is another room; compare 'roomkey room fingerprint \(id.hex)' with members you trust"
    }
}
