/// Whether a file's bytes belong at the remote path they were found at (docs/PROTOCOL.md §9.1): what a path names,
/// its header must say. A pusher can copy any authentic file to any name; a copy at a wrong path is refused before the
/// duplicate check, so it never makes the copy at the right path a duplicate, and nothing keyed by a path's name (a
/// member's own files, the files of a sender) holds another sender's bytes.
public enum RemotePlacement {
    /// How a file does not fit its path.
    public enum Mismatch: Equatable, Sendable {
        /// The header names another room or epoch than the path.
        case roomOrEpoch
        /// The header names another sender (or leaving member) than the path.
        case sender
        /// The digest in the file's name is not the file's.
        case digest
        /// A leave request outside `leave/`, or a bundle inside it.
        case kind
    }

    /// Why `bytes` do not belong at `entry`, or nil when they do. Bytes that are neither a bundle nor a leave request
    /// by their first bytes are nil here: receiving them says what they are. Reads the header only, and hashes the
    /// file only when its name holds a digest (`resent/`, and `keys/` names without a generation).
    public static func mismatch(_ entry: RemoteLayout.Entry, bytes: [UInt8]) -> Mismatch? {
        if LeaveRequest.looksLike(bytes) {
            guard case let .leaveRequest(member) = entry.kind else { return .kind }
            guard let fields = LeaveRequest.headerFields(bytes) else { return nil }
            if fields.roomID.hex != entry.room || fields.epoch != entry.epoch { return .roomOrEpoch }
            return fields.member.hex == member ? nil : .sender
        }
        guard let header = Bundle.headerFields(bytes) else { return nil }
        if header.roomID.hex != entry.room || header.epoch != entry.epoch { return .roomOrEpoch }
        switch entry.kind {
        case .commit:
            return nil
        case .leaveRequest:
            return .kind
        case let .senderKey(sender, generation):
            if header.sender.hex != sender { return .sender }
            guard generation.hasPrefix("x") else { return nil }
            return generation.dropFirst() == Substring(digest(bytes)) ? nil : .digest
        case let .resent(sender, name):
            if header.sender.hex != sender { return .sender }
            return name == digest(bytes) ? nil : .digest
        }
    }

    /// The digest a file's name carries: the first 8 bytes of BLAKE2b-256 of the whole file, lowercase hex.
    public static func digest(_ bytes: [UInt8]) -> String {
        Hex.encode(Array(BLAKE2b.hash([bytes]).prefix(8)))
    }
}
