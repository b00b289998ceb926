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
    /// True for a bundle an earlier run kept (`pending_bundle`), retried in this one, rather than one of its inputs.
    public var kept = false
    /// True for a bundle whose header names this identity as its sender (never sealed to itself: not-for-me).
    public var ownBundle = false
}

/// One input to `receive`: where it came from and its bytes, or, read ahead for one recipient, its bundle as that
/// recipient reads it and a way to read its bytes again.
public struct ReceiveInput: Sendable {
    /// The file's path (for reports).
    public let path: String
    private let source: Source

    private enum Source: Sendable {
        case bytes([UInt8])
        case followed(FollowedRead)
        case retained(Result<Bundle, WireError>, size: Int, wholeHash: [UInt8]?, reload: @Sendable () throws -> [UInt8])
    }

    /// Why an input read ahead could not be read again (to keep it as pending).
    public enum ReloadError: RoomKeyError, Equatable {
        /// The file no longer holds the bundle it held when it was read.
        case changed
        /// Reading it again failed.
        case unreadable(reason: String)
        /// Reading it again at its turn (its large payload was let go, `Bundle.retainingStanza`) failed.
        case unreadableToOpen(reason: String)

        public var category: ErrorCategory { .malformed }
        public var message: String {
            switch self {
            case .changed: "the file changed while it was being received"
            case let .unreadable(reason): "the file could not be read again to keep it: \(reason)"
            case let .unreadableToOpen(reason): "the file could not be read again to open it: \(reason)"
            }
        }
    }

    /// The bundle bytes (of a followed read: once its stanza hash is done; of a retained input: read again and checked
    /// to be the bundle received).
    func wholeBytes() throws -> [UInt8] {
        switch source {
        case let .bytes(bytes): return bytes
        case let .followed(read): return read.bytesAndStanzaHash.bytes
        case let .retained(parsed, _, _, reload):
            let bytes = try reload()
            guard case let .success(bundle) = parsed, (try? Bundle.parse(bytes))?.seenDigest == bundle.seenDigest else {
                throw ReloadError.changed
            }
            return bytes
        }
    }

    /// The bundle bytes as given (a retained input holds none: empty).
    public var bytes: [UInt8] {
        switch source {
        case let .bytes(bytes): bytes
        case let .followed(read): read.bytesAndStanzaHash.bytes
        case .retained: []
        }
    }

    /// The input's length in bytes.
    var size: Int {
        if case let .retained(_, size, _, _) = source { return size }
        return bytes.count
    }

    /// The bundle already parsed (and retained for one recipient), if this input was read that way.
    var parsed: Result<Bundle, WireError>? {
        if case let .retained(parsed, _, _, _) = source { return parsed }
        return nil
    }

    /// BLAKE2b-256 of the whole file, made when it was read ahead (for a keyring that still holds whole-file digests).
    var wholeFileHash: [UInt8]? {
        if case let .retained(_, _, hash, _) = source { return hash }
        return nil
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

    /// An input refused before it was parsed (larger than any bundle may be): malformed, with `error` as the reason.
    package init(path: String, refused error: WireError) {
        self.path = path
        source = .retained(.failure(error), size: 0, wholeHash: nil, reload: { throw error })
    }

    /// Wraps a path and a read whose stanza list was hashed as it arrived (`FollowedRead`).
    package init(path: String, followed: FollowedRead) {
        self.path = path
        source = .followed(followed)
    }

    /// An input read ahead for `recipient`: a bundle is parsed now and kept without the other recipients' sealed keys
    /// (`Bundle.retainingStanza`), and its bytes let go; `reload` reads them again if they are needed (to keep the
    /// bundle as pending), and they must then be the same bundle. A leave request, which is small, keeps its bytes. With
    /// `hashingWhole`, the whole file's BLAKE2b-256 is made now (a keyring with rows in `seen_bundle_whole` asks for it).
    package init(path: String, read input: ReceiveInput, retainingFor recipient: IdentityID, hashingWhole: Bool = false,
                 reload: @escaping @Sendable () throws -> [UInt8]) {
        self.path = path
        let bytes = input.bytes
        if LeaveRequest.looksLike(bytes) {
            source = .bytes(bytes)
            return
        }
        let parsed = Result { () throws(WireError) in try Bundle.parse(bytes, stanzaHashOfTheseBytes: input.stanzaHash) }
        source = .retained(parsed.map { $0.retainingStanza(of: recipient) }, size: bytes.count,
                           wholeHash: hashingWhole ? BLAKE2b.hash([bytes]) : nil, reload: reload)
    }
}


/// The results of one `receive` run by input index; the first result stored for an index is announced at once.
struct ReceiveResultTable {
    /// The results so far.
    private(set) var values: [Int: ReceiveResult] = [:]
    /// How many inputs this run has: a result at a higher index is a kept bundle's (`ReceiveResult.kept`).
    let inputs: Int
    /// Called with each index's first result.
    let announce: (ReceiveResult) -> Void

    subscript(index: Int) -> ReceiveResult? {
        get { values[index] }
        set {
            var value = newValue
            if index >= inputs { value?.kept = true }
            if values[index] == nil, let value { announce(value) }
            values[index] = value
        }
    }
}
