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
