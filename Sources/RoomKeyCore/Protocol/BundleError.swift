/// Why a bundle was not applied: thrown and reported by the acceptance decision (`BundleAcceptance`).
public enum BundleError: Error, Equatable, Sendable {
    /// The stanza recipients are not exactly the roster minus the sender.
    case recipientsMismatch(extra: [IdentityID], missing: [IdentityID])
    /// The sender is not a member at the bundle's epoch.
    case senderNotMember(IdentityID, epoch: UInt64)
    /// A room this keyring does not know, from a sender who is not a contact.
    case unknownSender(IdentityID)
    /// The bundle's epoch does not match what it carries.
    case epochMismatch(header: UInt64, content: UInt64)
    /// The bundle is for an epoch before this keyring joined.
    case epochUnknown(UInt64)
    /// Waiting for something earlier.
    case waiting(String)
    /// The carried commits are not in consecutive epochs.
    case commitsOutOfOrder
    /// A carried commit names another room than the bundle's header.
    case roomMismatch(header: RoomID, commit: RoomID)
    /// The bundle carries neither a new commit nor a new sender key.
    case noOp(epoch: UInt64)
    /// The bundle waits for an epoch too far ahead of the room's to be kept.
    case tooFarAhead(epoch: UInt64, current: UInt64, limit: UInt64)
    /// The bundle is larger than anything the room could need, so it is not kept while it waits.
    case tooLargeToWait(size: Int, limit: Int)
    /// The waiting bundles kept here rank above this one and fill the room it would need (`room` bytes are its rank's).
    case pendingFull(size: Int, room: Int)
    /// The bundle's signature does not verify under the sender's known card.
    case badSignature(IdentityID)
    /// A commit that conflicts with an accepted one of an epoch the room has moved past: not evidence of anything.
    case staleConflict(epoch: UInt64, current: UInt64)
    /// An admin's own leave carries a sender key for a room it leaves.
    case keyFromLeaver
}

extension BundleError: RoomKeyError {
    /// Waiting (for an earlier epoch, or for the room's log from a contact) is pending; the rest are rejections.
    public var category: ErrorCategory {
        switch self {
        case .waiting, .unknownSender: .pending
        default: .rejected
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .recipientsMismatch(extra, missing):
            "bundle recipients are not the roster: "
                + (extra.isEmpty ? "" : "not members: \(extra.map(\.hex).joined(separator: ", "))")
                + (extra.isEmpty || missing.isEmpty ? "" : "; ")
                + (missing.isEmpty ? "" : "missing members: \(missing.map(\.hex).joined(separator: ", "))")
        case let .senderNotMember(id, epoch): "bundle sender \(id) is not a member at epoch \(epoch)"
        case let .unknownSender(id): "bundle for an unknown room from \(id), who is not a contact; not kept"
        case let .epochMismatch(header, content): "bundle says epoch \(header) but carries epoch \(content)"
        case let .epochUnknown(epoch): "bundle is for epoch \(epoch), before this keyring joined"
        case let .waiting(what): "waiting for \(what)"
        case .commitsOutOfOrder: "bundle carries commits that are not in consecutive epochs"
        case let .roomMismatch(header, commit): "bundle for room \(header) carries a commit of room \(commit)"
        case let .noOp(epoch): "bundle for epoch \(epoch) carries no new commit and no new sender key"
        case let .tooFarAhead(epoch, current, limit):
            "bundle for epoch \(epoch) is more than \(limit) epochs ahead of the room (epoch \(current)); not kept"
        case let .tooLargeToWait(size, limit): "bundle of \(size) bytes is larger than the room could need (\(limit)); not kept"
        case let .pendingFull(size, room):
            "bundle of \(size) bytes is not kept: the waiting bundles that rank above it, or the strangers' share, leave \(room) bytes for it"
        case let .badSignature(id): "bundle signature does not verify under the card of \(id)"
        case let .staleConflict(epoch, current):
            "bundle carries a commit for epoch \(epoch) that differs from the accepted one, and the room is at epoch \(current); ignored as stale"
        case .keyFromLeaver: "a member who leaves may not send a new sender key"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .unknownSender: "import the sender's identity card with 'roomkey contact add' and receive again"
        case .tooFarAhead: "receive the missing earlier bundles first"
        default: nil
        }
    }
}
