import Foundation
import GRDB
import RoomKeyCore

/// What a staged intent is about and what changed since it was staged, read from this keyring for the core's planner
/// (`StagedRebase.plan`, docs/PROTOCOL.md §9.4): its subjects (every key of each contact it names), the identities other
/// admins' commits named since its base, and why it can no longer be made (a contact's key changed since it was staged,
/// its leave request no longer holds, or the room's history changed under it).
extension Keyring {
    /// An intent for `room` as it is now: `ops`, based on the room's epoch and head, about the contacts `ops` name.
    func newIntent(_ db: Database, room: StoredRoom, operations ops: [RoomKeyCore.Operation], leaveRequest: LeaveRequest? = nil,
                   allowSameHandle: Bool = false) throws -> StagedIntent {
        var subjects = Set(ops.compactMap(\.subject))
        for id in subjects {
            guard let contact = try fetchContact(db, id: id) else { continue }
            subjects.formUnion(try keyHistory(db, named: contact.name).map(\.card.id))
        }
        return StagedIntent(roomID: room.id, operations: ops, created: now(), base: (room.state.epoch, room.state.head),
                            subjects: subjects.sorted(), leaveRequest: leaveRequest?.encoded, allowSameHandle: allowSameHandle)
    }

    /// `room`'s staged intents as the planner takes them, with each `add` carrying the contact's current card.
    func plannerIntents(_ db: Database, room: StoredRoom, _ intents: [StagedIntent], me: IdentityID) throws -> [StagedRebase.Intent] {
        let oldest = intents.compactMap { $0.base?.epoch }.min() ?? room.state.epoch
        var since: [(epoch: UInt64, author: IdentityID, operations: [RoomKeyCore.Operation])] = []
        if oldest < room.state.epoch {
            for epoch in (oldest + 1)...room.state.epoch {
                if let c = try checkedCommit(db, room.id, epoch) { since.append((epoch, c.author, c.operations)) }
            }
        }
        let leaveVetoes = try leaveVetoes(db, intents, me: me)
        return try intents.enumerated().map { index, intent in
            var veto: String?
            var ops: [RoomKeyCore.Operation] = []
            for op in intent.operations {
                guard case let .add(card) = op else { ops.append(op); continue }
                let (fresh, why) = try currentCard(db, card)
                ops.append(.add(fresh))
                veto = veto ?? why
            }
            guard let base = intent.base, let subjects = intent.subjects else { return StagedRebase.Intent(ops, subjects: nil, veto: veto) }
            let baseHead = base.epoch > room.state.epoch || base.epoch < room.joinedEpoch ? nil : try checkedCommit(db, room.id, base.epoch)?.head
            if veto == nil, baseHead != base.head { veto = "the room's history changed since this change was staged" }
            if veto == nil { veto = leaveVetoes[index] }
            let changed = StagedRebase.changed(since: since.filter { $0.epoch > base.epoch }.map { ($0.author, $0.operations) }, me: me)
            return StagedRebase.Intent(ops, subjects: Set(subjects), changed: changed, veto: veto, allowSameHandle: intent.allowSameHandle)
        }
    }

    /// The contact's current card for a staged `add` of `card` (its newer version, same key), or the card and why the
    /// add cannot be made: the contact's identity key changed since the change was staged.
    private func currentCard(_ db: Database, _ card: IdentityCard) throws -> (IdentityCard, String?) {
        if let contact = try fetchContact(db, id: card.id) { return (contact.card, nil) }
        for tag in try contactTagsWithHistory(db) {
            guard let contact = try fetchContact(db, tag: tag) else { continue }
            if try keyHistory(db, named: contact.name).contains(where: { $0.card.id == card.id }) {
                return (card, "the identity key of contact \(contact.name) changed since this change was staged (\(card.id) is an old key)")
            }
        }
        return (card, nil)
    }

    /// Why each removal a member asked for no longer holds, by intent index (`LeaveAcceptance` deciding every request
    /// again, together, on the room as it is now); an intent without a request, or whose request still holds, has none.
    private func leaveVetoes(_ db: Database, _ intents: [StagedIntent], me: IdentityID) throws -> [Int: String] {
        var vetoes: [Int: String] = [:]
        var requests: [(index: Int, request: LeaveRequest)] = []
        // Only intents that reach the veto check (those that know their base) are decided, as one by one they were.
        for (index, intent) in intents.enumerated() where intent.base != nil && intent.subjects != nil {
            guard let bytes = intent.leaveRequest else { continue }
            guard let request = try? LeaveRequest.parse(bytes) else {
                vetoes[index] = "the leave request it came from is damaged"
                continue
            }
            requests.append((index, request))
        }
        let decisions = try LeaveAcceptance(view: ReceiverStore(keyring: self, db: db), receiver: me).decide(requests.map(\.request))
        for (item, decision) in zip(requests, decisions) {
            let request = item.request
            switch decision {
            case .remove, .otherAdmin: break  // staged removals: the remote orders them, any admin may act
            case .duplicate: vetoes[item.index] = "\(request.member) is no longer a member"
            case let .rejected(error): vetoes[item.index] = error.message
            case let .pending(why): vetoes[item.index] = why.message
            case .notForMe: vetoes[item.index] = "you can no longer act on the leave request of \(request.member)"
            }
        }
        return vetoes
    }
}
