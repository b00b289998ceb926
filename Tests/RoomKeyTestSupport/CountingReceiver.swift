import RoomKeyCore

/// A receiver's view over an `InMemoryReceiver` that counts the commits and rosters it is asked for: how tests show
/// that a decision reads what it needs and no more.
package struct CountingReceiver: ReceiverView {
    /// The counts, shared by copies of the view.
    package final class Counts: @unchecked Sendable {
        /// Commits asked for.
        package var commits = 0
        /// Rosters asked for, whole or as views.
        package var rosters = 0
    }

    /// The view answering.
    package let inner: InMemoryReceiver
    /// What was asked so far.
    package let count = Counts()

    /// Counts what is asked of `inner`.
    package init(_ inner: InMemoryReceiver) { self.inner = inner }

    package func seenBundle(_ digest: [UInt8]) throws -> Bool { try inner.seenBundle(digest) }
    package func holdsEarlierSeen(_ room: RoomID) throws -> Bool { try inner.holdsEarlierSeen(room) }
    package func seenEarlier(_ digest: [UInt8]) throws -> Bool { try inner.seenEarlier(digest) }
    package func room(_ id: RoomID) throws -> HeldRoom? { try inner.room(id) }
    package func commit(_ room: RoomID, epoch: UInt64) throws -> Commit? {
        count.commits += 1
        return try inner.commit(room, epoch: epoch)
    }
    package func roster(_ room: RoomID, epoch: UInt64) throws -> Roster? {
        count.rosters += 1
        return try inner.roster(room, epoch: epoch)
    }
    package func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView? {
        count.rosters += 1
        return try inner.rosterView(room, epoch: epoch)
    }
    package func contactCard(_ id: IdentityID) throws -> IdentityCard? { try inner.contactCard(id) }
    package func memberSigningKey(_ id: IdentityID) throws -> SigningPublicKey? {
        count.rosters += 1
        return try inner.memberSigningKey(id)
    }
    package func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool { try inner.holdsSenderKey(key) }
}
