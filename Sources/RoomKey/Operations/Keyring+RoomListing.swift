import Foundation
import GRDB
import RoomKeyCore

/// One room as `room list` shows it: its record and its roster's summary, read without its roster.
public struct RoomListing: Sendable {
    /// The room id.
    public let id: RoomID
    /// The room's name.
    public let name: String
    /// The current epoch.
    public let epoch: UInt64
    /// True when the room is forked.
    public let forked: Bool
    /// True when this keyring left the room (`room leave`) and has not taken it back (`room rejoin`).
    public var left = false
    /// True when the room requires post-quantum cards (`room set --require-pq`).
    public let requirePQ: Bool
    /// Size, your role, trust counts and members on version 1 cards.
    public let summary: RosterSummary

    /// The listing order: by name, then by id (its bytes, which order as its lowercase hex does).
    static func precedes(_ a: (name: String, id: RoomID), _ b: (name: String, id: RoomID)) -> Bool {
        a.name != b.name ? a.name < b.name : a.id.bytes.lexicographicallyPrecedes(b.id.bytes)
    }
}

extension Keyring {
    /// Every room, sorted by name then id, from one room row and one summary row each (a room whose summary is not
    /// built yet, in a keyring from before `v7-scale` opened read-only, is counted from its roster).
    public func roomListings() throws -> [RoomListing] {
        let listings = try read { db in
            var me: IdentityCard?
            return try roomTags(db).compactMap { rtag -> RoomListing? in
                guard let (record, id) = try loadRoomRecordAndID(db, tag: rtag) else { return nil }
                var summary = try storedSummary(db, tag: rtag)
                if summary == nil {
                    guard let roster = try epochRoster(db, id, record.epoch) else { throw KeyringError.integrityFailure(table: "room") }
                    let own = try me ?? identityCard(db)
                    me = own
                    summary = try self.summary(db, roster: roster, me: own)
                }
                guard let summary else { return nil }
                var listing = RoomListing(id: id, name: record.name, epoch: record.epoch, forked: record.forked,
                                          requirePQ: record.requirePQ ?? false, summary: summary)
                listing.left = record.left ?? false
                return listing
            }
        }
        return listings.sorted { RoomListing.precedes(($0.name, $0.id), ($1.name, $1.id)) }
    }
}
