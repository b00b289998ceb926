import RoomKeyCore
/// What `receive` did with one input.
public enum ReceiveStatus: String, Sendable, Comparable {
    /// Checked and stored.
    case applied
    /// Already applied before: nothing to do.
    case duplicate
    /// Valid so far but waiting for an earlier epoch or for the room; kept in the keyring.
    case pending
    /// Not addressed to this identity.
    case notForMe = "not-for-me"
    /// A signature, MAC, authority, roster or replay check failed; nothing was stored.
    case rejected
    /// Could not be parsed.
    case malformed

    /// Severity for the exit code: the worst input decides.
    var severity: Int {
        switch self {
        case .applied, .duplicate, .notForMe: 0
        case .pending: 1
        case .malformed: 2
        case .rejected: 3
        }
    }

    /// Orders by severity.
    public static func < (a: ReceiveStatus, b: ReceiveStatus) -> Bool { a.severity < b.severity }
}

/// The outcome of one received input.
public struct ReceiveResult: Sendable {
    /// The input's path.
    public let path: String
    /// What happened.
    public let status: ReceiveStatus
    /// The room the bundle names, when it could be parsed.
    public let roomID: RoomID?
    /// The bundle's epoch, when it could be parsed.
    public let epoch: UInt64?
    /// Why it was rejected, malformed or pending.
    public let error: (any RoomKeyError)?
    /// Bundles this keyring wrote in response (its own rotation).
    public let bundles: [String]
}

/// One input to `receive`: where it came from and its bytes.
public struct ReceiveInput: Sendable {
    /// The file's path (for reports).
    public let path: String
    /// The bundle bytes.
    public let bytes: [UInt8]

    /// Wraps a path and bytes.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}

/// Reasons a bundle is refused that are not log rules.
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
    /// A member who leaves sent a sender key with the leave.
    case keyFromLeaver
    /// Too many bundles already wait for earlier epochs.
    case tooManyPending(limit: Int)
}

extension BundleError: RoomKeyError {
    /// Waiting is pending; the rest are rejections.
    public var category: ErrorCategory {
        if case .waiting = self { return .pending }
        return .rejected
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
        case let .unknownSender(id): "bundle for an unknown room from \(id), who is not a contact"
        case let .epochMismatch(header, content): "bundle says epoch \(header) but carries epoch \(content)"
        case let .epochUnknown(epoch): "bundle is for epoch \(epoch), before this keyring joined"
        case let .waiting(what): "waiting for \(what)"
        case .commitsOutOfOrder: "bundle carries commits that are not in consecutive epochs"
        case .keyFromLeaver: "a member who leaves may not send a new sender key"
        case let .tooManyPending(limit): "\(limit) bundles already wait for earlier epochs; this one is not kept"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .unknownSender: "import the sender's identity card with 'roomkey contact add' and receive again"
        case .tooManyPending: "receive the missing earlier bundles, or run 'roomkey prune --older-than 1h'"
        default: nil
        }
    }
}
