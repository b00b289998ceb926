import GRDB
import RoomKeyCore

/// Sealing ahead: a bundle's sealed boxes cost half their time in making ephemeral key pairs, which need nothing of the
/// roster. An operation that will seal starts making them (`EphemeralKeyPool`) on the second core while its first core
/// loads, checks and stores the roster, and the seal takes what was made. The boxes are the same; only the wall time falls.
extension Keyring {
    /// Starts making about as many key pairs as the room `nameOrID`'s stored summary counts members on version 1 cards
    /// (their stanzas are sealed boxes). Nothing starts for an unknown or ambiguous name (the operation reports it), a
    /// room without a summary, or, when `staging`, a room with a git remote (its changes are staged, not sealed). The
    /// count only sizes the work done ahead: whatever it says, each pair seals one box at most.
    func sealAhead(_ db: Database, room nameOrID: String, staging: Bool = true) {
        guard let id = try? findRoomID(db, nameOrID), let count = try? storedClassicalCount(db, id) else { return }
        if staging, (try? remoteName(db, room: id)) != nil { return }
        sealAhead(pairs: count)
    }

    /// Before a received bundle with commits is checked in full (which loads and checks the room's roster): when it
    /// carries the next epoch of a room held here, its sender is a member of the room at its current epoch (one indexed
    /// tenure read) and a contact whose identity key verifies the bundle's signature, the rotation it brings is sealed
    /// ahead meanwhile. A forger cannot get past the signature, nor a contact outside the room past the tenure, so only
    /// a member this member knows can start a pool here; any other bundle starts one only once accepted (below).
    /// The tenure is read without checking its table against the digest (a whole pass over a row per member of every
    /// room): the pool decides nothing, and an edited row could at most start making pairs that no seal takes.
    func sealAheadOfSignedCommits(_ db: Database, _ content: borrowing BundleContent) {
        let bundle = content.bundle
        guard !sealingAhead, let record = try? loadRoomRecord(db, bundle.roomID), record.left != true, !record.forked,
              content.commits.contains(where: { $0.epoch == record.epoch + 1 }),
              (try? tenureGuess(db, bundle.roomID, bundle.sender))?.stay(at: record.epoch) != nil,
              let sender = try? fetchContact(db, id: bundle.sender), (try? content.verify(signer: sender.card.signingKey)) != nil,
              let count = try? storedClassicalCount(db, bundle.roomID) else { return }
        sealAhead(pairs: count)
    }

    /// Once a received bundle's commits to a room this member stays in are accepted (and only then: a bundle that is
    /// forged, refused, a duplicate or pending starts nothing), this member's rotation will seal to about `roster`
    /// (`rotateDueRooms`, after the commits are stored). Nothing starts when pairs are already being made: a run that
    /// applies many bundles rotates once per room, and the first pool goes to the first rotation.
    func sealAheadOfRotation(roster: Roster) {
        guard !sealingAhead else { return }
        sealAhead(pairs: roster.members.values.lazy.filter { !$0.card.isPostQuantum }.count)
    }

    /// Starts making `pairs` key pairs (none for a small count), replacing any pool not taken.
    func sealAhead(pairs: Int) {
        let pool = EphemeralKeyPool(pairs: pairs)
        sealingAhead = pool.isMaking
        ephemeralPool = .some(pool)
    }

    /// True while a pool no seal has taken yet is making pairs (a large seal is coming).
    var poolWaiting: Bool {
        switch ephemeralPool {
        case .some(let pool): pool.isMaking
        case .none: false
        }
    }

    /// Stops and wipes the pairs made ahead that no seal took.
    func dropSealAhead() {
        ephemeralPool = nil
        sealingAhead = false
    }
}
