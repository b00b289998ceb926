import Foundation
import GRDB
import RoomKeyCore

/// The `room_summary` table: one sealed `RosterSummary` per room (keyed by the room's tag), so `room list` reads one
/// row per room instead of every roster and every member's contact. Kept up to date in the transaction of every change
/// that moves it: a stored commit adjusts it member by member; a contact change (added, key changed, verified, accepted,
/// removed) or the owner's card upgrade marks the rooms it touches, whose summaries are recounted before that
/// transaction commits.
extension Keyring {
    /// The stored summary of a room, if built.
    func storedSummary(_ db: Database, _ room: RoomID) throws -> RosterSummary? {
        try storedSummary(db, tag: roomTag(room))
    }

    /// The stored summary of the room whose row tag is `rtag`, if built.
    func storedSummary(_ db: Database, tag rtag: [UInt8]) throws -> RosterSummary? {
        if let pending = pendingSummary, pending.tag == rtag, let summary = pending.summary { return summary }
        guard let row = try sealedSummary(db, tag: rtag) else { return nil }
        if let memo = summaryMemo, memo.tag == rtag, memo.sealed == row { return memo.summary }
        let plain = try openSummary(row, tag: rtag)
        // Summaries stored before the binary form are JSON.
        if plain.first == UInt8(ascii: "{") { return try rows.open(RosterSummary.self, row, table: "room_summary", primaryKey: rtag) }
        guard let summary = RosterSummary.decode(plain) else { throw KeyringError.integrityFailure(table: "room_summary") }
        summaryMemo = (rtag, row, summary)
        return summary
    }

    /// How many members the stored summary of `room` lists on version 1 cards, read without decoding the list (a size
    /// for sealing ahead); nil without a summary in the binary form.
    func storedClassicalCount(_ db: Database, _ room: RoomID) throws -> Int? {
        let rtag = roomTag(room)
        guard let row = try sealedSummary(db, tag: rtag) else { return nil }
        return RosterSummary.classicalCount(try openSummary(row, tag: rtag))
    }

    /// The sealed summary row of the room whose row tag is `rtag`, if built.
    private func sealedSummary(_ db: Database, tag rtag: [UInt8]) throws -> [UInt8]? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM room_summary WHERE room_tag = ?"), arguments: [Data(rtag)]).map { Array($0) }
    }

    /// The plaintext of a sealed summary row.
    private func openSummary(_ row: [UInt8], tag rtag: [UInt8]) throws -> [UInt8] {
        try rows.openSecret(row, table: "room_summary", primaryKey: rtag).withUnsafeBytes { Array($0) }
    }

    /// The members of `roster` whose effective card `room`'s stored summary counts as version 1 (no upgraded contact
    /// card), checked against the integrity digest. Empty (so nothing is taken from it) when the room has no summary, its
    /// summary counts another number of members, or a contact change in the running transaction made summaries stale.
    func summaryClassicalIDs(_ db: Database, room: RoomID, roster: Roster) throws -> Set<IdentityID> {
        guard summariesDue.isEmpty else { return [] }
        try requireIntact(db, "room_summary")
        guard let summary = try storedSummary(db, room), summary.members == roster.count else { return [] }
        return Set(summary.classicalIDs)
    }

    func saveSummary(_ db: Database, _ room: RoomID, _ summary: RosterSummary) throws {
        let rtag = roomTag(room)
        // While one bundle's commits are stored, its room's summary is kept here and saved once (`storingCommits`);
        // another room's is saved at once.
        if pendingSummary?.tag == rtag {
            pendingSummary = (rtag, summary)
            return
        }
        summaryRowsWritten += 1
        let sealed = summary.encoded().withUnsafeBytes { rows.seal($0, table: "room_summary", primaryKey: rtag) }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO room_summary (room_tag, sealed) VALUES (?, ?)").execute(arguments: [Data(rtag), Data(sealed)])
        summaryMemo = (rtag, Array(sealed), summary)
    }

    /// A member's trust and, when its effective card is version 1, the name listings give it (one contact read, or one
    /// lookup in `contacts`'s pass over the table).
    func listingFacts(_ db: Database, _ member: Member, me: IdentityCard, changedKeys: Set<IdentityID>, upgrades: [IdentityID: IdentityCard],
                      contacts: ContactLookup = ContactLookup(scanned: nil)) throws -> (MemberTrust, String?) {
        if member.id == me.id { return (.you, me.isPostQuantum ? nil : "you (\(me.handle))") }
        let contact = try listedContact(db, member.id, in: contacts)
        let trust = MemberTrust.of(member.id, me: me.id, contact: contact.map { ($0.verified, $0.keyChanged) }, changedKeys: changedKeys)
        let upgraded = contact.map { $0.postQuantum && $0.signingKey == member.card.signingKey } ?? false
            || upgrades[member.id].map { $0.signingKey == member.card.signingKey } ?? false
        return (trust, member.card.isPostQuantum || upgraded ? nil : (contact?.name ?? member.card.handle))
    }

    /// Counts a roster from scratch.
    func summary(_ db: Database, roster: Roster, me: IdentityCard) throws -> RosterSummary {
        let changed = try changedKeys(db)
        // When every other member is a contact read in this operation (a room being created), each is found among
        // those reads: no pass over the contact table.
        let readAlready = contactsSeen.map { seen in roster.members.keys.allSatisfy { $0 == me.id || seen[$0] != nil } } ?? false
        let contacts = readAlready ? ContactLookup(scanned: nil) : try contactLookup(db, members: roster.count)
        var summary = RosterSummary()
        let upgrades = try historyUpgrades(db)
        for id in roster.sortedIDs {
            guard let member = roster[id] else { continue }
            let (trust, classical) = try listingFacts(db, member, me: me, changedKeys: changed, upgrades: upgrades, contacts: contacts)
            summary.add(id, trust: trust, classicalName: classical)
        }
        summary.isMember = roster[me.id] != nil
        summary.isAdmin = roster[me.id]?.admin ?? false
        return summary
    }

    /// Adjusts a room's summary for a stored commit: `joined` and `left` are the members the commit brought in and took
    /// out (a member both, taken out and back, is recounted); `roster` is the roster the commit produced.
    func noteSummary(_ db: Database, _ commit: Commit, roster: Roster, joined: [IdentityID], left: [IdentityID]) throws {
        let me = try identityCard(db)
        guard commit.epoch > 0, var summary = try storedSummary(db, commit.roomID) else {
            return try saveSummary(db, commit.roomID, try summary(db, roster: roster, me: me))
        }
        let changed = try changedKeys(db)
        // In id order: each lands after the one before it in the summary's sorted entries.
        for id in left.sorted() {
            let trust = try memberTrust(db, id, me: me.id, changedKeys: changed)
            summary.remove(id, trust: trust)
        }
        let contacts = try contactLookup(db, members: joined.count)
        let upgrades = joined.isEmpty ? [:] : try historyUpgrades(db)
        for id in joined.sorted() {
            guard let member = roster[id] else { continue }
            let (trust, classical) = try listingFacts(db, member, me: me, changedKeys: changed, upgrades: upgrades, contacts: contacts)
            summary.add(id, trust: trust, classicalName: classical)
        }
        summary.isMember = roster[me.id] != nil
        summary.isAdmin = roster[me.id]?.admin ?? false
        try saveSummary(db, commit.roomID, summary)
    }

    /// Marks every room in which one of `ids` is a member now: its summary is recounted before the transaction commits.
    func noteContactChange(_ db: Database, _ ids: [IdentityID]) throws {
        summariesDue.formUnion(try roomTags(db, withMembers: Set(ids)))
    }

    /// The row tags of the rooms in which one of `ids` is a member now (by their tenures), and of every room whose
    /// tenures are not built yet, which has no rows to find it by (the caller reads its roster if it must know).
    func roomTags(_ db: Database, withMembers ids: Set<IdentityID>) throws -> Set<[UInt8]> {
        guard !ids.isEmpty else { return [] }
        var tags = Set<[UInt8]>()
        for id in ids {
            for (roomTag, tenure) in try tenures(db, of: id) where tenure.stays.last?.left == nil { tags.insert(roomTag) }
        }
        for rtag in try Data.fetchAll(db.cachedStatement(sql: "SELECT room_tag FROM scale_backfill")) { tags.insert(Array(rtag)) }
        return tags
    }

    /// Marks every room (the owner's own card changed).
    func noteEveryRoomChanged(_ db: Database) throws {
        for rtag in try Data.fetchAll(db.cachedStatement(sql: "SELECT room_tag FROM room")) { summariesDue.insert(Array(rtag)) }
    }

    /// Recounts the summaries of the rooms marked in this transaction (see `write`).
    func recountDueSummaries(_ db: Database) throws {
        let due = summariesDue
        summariesDue = []
        guard !due.isEmpty else { return }
        let me = try identityCard(db)
        for rtag in due {
            guard let room = try loadRoom(db, tag: rtag) else { continue }
            try saveSummary(db, room.id, try summary(db, roster: room.state.roster, me: me))
        }
    }
}

extension Keyring {
    /// `room forget`: deletes its summary row (`roomTag` is the room's tag).
    func forgetSummary(_ db: Database, roomTag: Data) throws {
        try db.cachedStatement(sql: "DELETE FROM room_summary WHERE room_tag = ?").execute(arguments: [roomTag])
    }
}
