/// Why a room message could not be encrypted or decrypted.
public enum MessageError: Error, Equatable, Sendable {
    /// The iteration was already decrypted.
    case replay(iteration: UInt32)
    /// The iteration is older than every key still kept for its sender key.
    case tooOld(iteration: UInt32, oldest: UInt32)
    /// The message is further ahead of the chain than a receiver accepts.
    case jumpTooFar(from: UInt32, to: UInt32)
    /// The chain reached its last iteration.
    case chainExhausted
    /// A message claims the last iteration, which no sender uses (`sendStep` stops before it): it was made up.
    case iterationOutOfRange(UInt32)
    /// The sender key's signature over the message does not verify.
    case signatureInvalid
    /// The message body does not decrypt under its message key.
    case decryptionFailed
    /// A stored ratchet state is inconsistent.
    case corruptState
    /// The plaintext is larger than a message may carry.
    case tooLarge(limit: Int, found: Int)
    /// This keyring knows no room with the message's room id.
    case unknownRoom(RoomID)
    /// The message is for an epoch this keyring has not reached (it may never: a removed member never does).
    case futureEpoch(epoch: UInt64, current: UInt64, room: String)
    /// The message is from an epoch before this keyring joined the room.
    case beforeJoined(epoch: UInt64, joined: UInt64, room: String)
    /// The retention window ended and its key was deleted.
    case retentionDeleted(epoch: UInt64, room: String)
    /// The sender is not a member in the message's epoch, or was removed since.
    case senderNotMember(IdentityID, epoch: UInt64, room: String)
    /// The sender is a member but its sender key has not been received yet.
    case senderKeyMissing(IdentityID, epoch: UInt64, room: String)
    /// The message was sent from this keyring; a sender keeps no keys for what it sent.
    case ownMessage(room: String)
    /// The stored sender key does not belong to the message's sender and epoch.
    case keyMismatch(epoch: UInt64, keyEpoch: UInt64)
}

extension MessageError: RoomKeyError {
    /// Forgeries and strangers are rejections; a message read twice is refused by a rule; missing keys are not found, or pending while they may still arrive.
    public var category: ErrorCategory {
        switch self {
        // A replay is found only after the signature verified: an authentic message already read is a rule, not an attack.
        case .replay: .refused
        case .tooOld, .jumpTooFar, .iterationOutOfRange, .signatureInvalid, .decryptionFailed, .corruptState, .senderNotMember, .keyMismatch:
            .rejected
        case .chainExhausted: .failure
        case .tooLarge: .malformed
        case .unknownRoom, .futureEpoch, .beforeJoined, .retentionDeleted, .ownMessage: .notFound
        case .senderKeyMissing: .pending
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .replay(i): "replayed message: iteration \(i) was already decrypted"
        case let .tooOld(i, oldest): "message iteration \(i) is older than the oldest kept key (iteration \(oldest)); it cannot be decrypted"
        case let .jumpTooFar(from, to): "message iteration \(to) is more than \(SenderChain.maxJump) ahead of the chain (at \(from))"
        case .chainExhausted: "the sender key reached its last iteration"
        case let .iterationOutOfRange(i): "message iteration \(i) is past the last one a sender key can use"
        case .signatureInvalid: "message signature check failed"
        case .decryptionFailed: "message body failed authentication"
        case .corruptState: "a stored sender-key state is inconsistent"
        case let .tooLarge(limit, found): "message plaintext is too large: \(found) bytes (limit \(limit))"
        case let .unknownRoom(id): "no key for this message: this keyring has no room \(id)"
        case let .futureEpoch(epoch, current, room):
            "no key for this message: it is for epoch \(epoch) of room \"\(room)\", and this keyring is at epoch \(current)"
        case let .beforeJoined(epoch, joined, room):
            "no key for this message: it is from epoch \(epoch) of room \"\(room)\", before you joined at epoch \(joined)"
        case let .retentionDeleted(epoch, room):
            "no key for this message: retention deleted its key (epoch \(epoch) of room \"\(room)\")"
        case let .senderNotMember(id, epoch, room): "message sender \(id) is not a member of room \"\(room)\" at epoch \(epoch)"
        case let .senderKeyMissing(id, epoch, room):
            "the sender key of \(id) for this message (epoch \(epoch) of room \"\(room)\") has not been received yet"
        case let .ownMessage(room): "no key for this message: you sent it (room \"\(room)\"), and senders keep no keys for sent messages"
        case let .keyMismatch(epoch, keyEpoch): "message says epoch \(epoch) but its sender key belongs to epoch \(keyEpoch)"
        }
    }

    /// A next step, where one exists.
    public var hint: String? {
        switch self {
        case .futureEpoch: "if you are still a member, receive the bundles of that epoch and decrypt again"
        case .senderKeyMissing: "receive the sender's bundle ('roomkey receive') and decrypt again"
        case .retentionDeleted: "'roomkey room set ROOM --retention DURATION' keeps superseded keys longer, for later messages"
        case .chainExhausted: "run 'roomkey room rotate ROOM'"
        case .replay: "each message can be read once: its key is deleted when it is read, so a stolen keyring cannot read it later; keep the plaintext (decrypt -o FILE) to read it again"
        default: nil
        }
    }
}
