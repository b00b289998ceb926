import Foundation
import GRDB
import RoomKeyCore

/// The keyring as the acceptance decision sees it: read-only lookups inside the receiving transaction.
struct ReceiverStore: ReceiverView {
    let keyring: Keyring
    let db: Database

    func seenBundle(_ digest: [UInt8]) throws -> Bool {
        try keyring.isSeen(db, digest)
    }

    func holdsEarlierSeen(_ room: RoomID) throws -> Bool { try keyring.holdsEarlierSeen(db, room) }

    func seenEarlier(_ digest: [UInt8]) throws -> Bool { try keyring.isSeenEarlier(db, digest) }

    func room(_ id: RoomID) throws -> HeldRoom? {
        guard let record = try keyring.loadRoomRecord(db, id) else { return nil }
        return HeldRoom(roomID: id, name: record.name, epoch: record.epoch, head: try Hex.decode(record.head, what: "head"),
                        joinedEpoch: record.joinedEpoch, left: record.left ?? false, headTime: record.headTime,
                        forked: record.forked)
    }

    func commit(_ room: RoomID, epoch: UInt64) throws -> Commit? { try keyring.checkedCommit(db, room, epoch) }

    func roster(_ room: RoomID, epoch: UInt64) throws -> Roster? { try held(keyring.epochRoster(db, room, epoch), room, epoch) }

    func rosterView(_ room: RoomID, epoch: UInt64) throws -> RosterView? { try held(keyring.epochRosterView(db, room, epoch), room, epoch) }

    /// `roster`, which a room holds for every epoch from 0 to its own with no gap (PROTOCOL §6): one missing there was
    /// deleted from outside, and the whole command stops (a review: a valid bundle was rejected as "for an epoch before
    /// this keyring joined", blaming its sender).
    private func held<R>(_ roster: R?, _ room: RoomID, _ epoch: UInt64) throws -> R? {
        if roster == nil, let record = try keyring.loadRoomRecord(db, room), epoch <= record.epoch {
            throw IntegrityError.edited("the roster of epoch \(epoch) of room \(record.name) is missing from room_epoch")
        }
        return roster
    }

    func members(_ room: RoomID, epoch: UInt64) throws -> EpochMembers? { try held(keyring.epochMembers(db, room, epoch), room, epoch) }

    func contactCard(_ id: IdentityID) throws -> IdentityCard? { try keyring.fetchContact(db, id: id)?.card }

    func memberSigningKey(_ id: IdentityID) throws -> SigningPublicKey? { try keyring.rosterSigningKey(db, id) }

    func holdsSenderKey(_ key: SenderKeyInfo) throws -> Bool {
        try keyring.holdsSenderKey(db, key, ledger: keyring.loadLedger(db, key.roomID))
    }
}
