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
    /// Something the user should know that did not fail this input (pending bundles dropped to stay under the cap).
    public var warning: String? = nil
}

/// One input to `receive`: where it came from and its bytes.
public struct ReceiveInput: Sendable {
    /// The file's path (for reports).
    public let path: String
    private let source: Source

    private enum Source: Sendable {
        case bytes([UInt8])
        case followed(FollowedRead)
    }

    /// The bundle bytes (of a followed read: once its stanza hash is done).
    public var bytes: [UInt8] {
        switch source {
        case let .bytes(bytes): bytes
        case let .followed(read): read.bytesAndStanzaHash.bytes
        }
    }

    /// The stanza hash made while the bytes were read, if they were read that way.
    var stanzaHash: Bundle.StanzaHash? {
        if case let .followed(read) = source { read.bytesAndStanzaHash.stanzaHash } else { nil }
    }

    /// Wraps a path and bytes.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        source = .bytes(bytes)
    }

    /// Wraps a path and a read whose stanza list was hashed as it arrived (`FollowedRead`).
    package init(path: String, followed: FollowedRead) {
        self.path = path
        source = .followed(followed)
    }
}


/// The results of one `receive` run by input index; the first result stored for an index is announced at once.
struct ReceiveResultTable {
    /// The results so far.
    private(set) var values: [Int: ReceiveResult] = [:]
    /// Called with each index's first result.
    let announce: (ReceiveResult) -> Void

    subscript(index: Int) -> ReceiveResult? {
        get { values[index] }
        set {
            if values[index] == nil, let newValue { announce(newValue) }
            values[index] = newValue
        }
    }
}
