import Foundation
import GRDB
import RoomKeyCore

/// A message `decryptBatch` decrypted: where it came from and its plaintext, wiped when the object ends.
public final class DecryptedMessage {
    /// Where the message came from.
    public let origin: MessageOrigin
    /// The plaintext.
    public let plaintext: SecretBytes

    init(origin: MessageOrigin, plaintext: consuming SecretBytes) {
        self.origin = origin
        self.plaintext = plaintext
    }
}

/// Many messages in few transactions: the batch forms of `decrypt` and `encrypt`.
extension Keyring {
    /// The most messages one batch transaction handles (`decryptBatch` splits; callers of `encryptBatch` should).
    public static let messagesPerTransaction = 100

    /// Decrypts many room messages, `messagesPerTransaction` per transaction. In each transaction every message goes
    /// through the checks of `decrypt`; one that fails a check is reported and leaves no trace, the others go on.
    /// A sender key used by several messages is loaded once, stepped in message order, and its final state written
    /// once. With `keep`, each plaintext is handed to it (with the message's index) inside the transaction, before
    /// its key is used up: a message whose `keep` throws fails with that error and stays to be decrypted again, and
    /// `beforeCommit` runs last (to make what `keep` wrote durable). A process killed at any instant then leaves every
    /// message either kept and used up, or not used up: never used up and lost (a crash review: a batch killed after its
    /// commit, before its outputs were written, lost up to 100 messages with no trace). Without `keep` the transaction
    /// commits before any plaintext is returned, so a caller that fails to keep one has lost that message for good.
    ///
    /// Returns one result per message, in order. Throws only when nothing was committed; a transaction that fails
    /// after earlier ones committed makes its messages and every later one fail with its error.
    public func decryptBatch(_ messages: [RoomMessage], keep: ((Int, DecryptedMessage) throws -> Void)? = nil,
                             beforeCommit: (() throws -> Void)? = nil) throws -> [Result<DecryptedMessage, any Error>] {
        try automaticPrune()
        let me = try identityCard().id
        // A single decrypt hands its plaintext out before it stores its state: the two take turns.
        let turn = try DecryptTurn(keyring: path)
        defer { turn.release() }
        var results: [Result<DecryptedMessage, any Error>] = []
        results.reserveCapacity(messages.count)
        var start = 0
        while start < messages.count {
            let end = min(start + Self.messagesPerTransaction, messages.count)
            do {
                results += try write { db in
                    // Before any plaintext is kept: what this transaction's commit reads.
                    try requireWhatWritesRead(db)
                    let done = try decryptTransaction(db, messages[start..<end], me: me, keep: keep)
                    try beforeCommit?()
                    return done
                }
            } catch {
                if start == 0 { throw error }
                results += (start..<messages.count).map { _ in .failure(error) }
                return results
            }
            start = end
        }
        return results
    }

    /// Encrypts `plaintexts` in one transaction, with consecutive iterations of this member's sender key, making a new
    /// generation first whenever the rotation policy says so (before the first message or between two; each bundle
    /// goes to `deliverBundle` and is named in the next message's `rotationBundle`). The ratchet state is committed
    /// before the messages are returned, so no message key is used twice; the caller writes them. On an error nothing
    /// is stored, and bundles `deliverBundle` wrote must not be sent. Keep a call to about `messagesPerTransaction`
    /// plaintexts: they are all held in memory.
    public func encryptBatch(room nameOrID: String, plaintexts: [[UInt8]], deliverBundle: BundleDelivery) throws -> [EncryptedMessage] {
        for plaintext in plaintexts where plaintext.count > RoomMessage.maxPlaintext {
            throw MessageError.tooLarge(limit: RoomMessage.maxPlaintext, found: plaintext.count)
        }
        guard !plaintexts.isEmpty else { return [] }
        try automaticPrune()
        let me = try identity()
        return try write { db in
            var room = try distributableRoom(db, nameOrID, me: me.id)
            var sealed: [EncryptedMessage] = []
            sealed.reserveCapacity(plaintexts.count)
            var index = 0
            while index < plaintexts.count {
                // Each pass uses one generation: rotate first when due, then encrypt until the policy says to rotate.
                var rotation: (path: String, reason: String)? = nil
                let reason: String?
                if room.rotationDue {
                    reason = "the room's epoch changed"
                } else if let current = try ownSenderKey(db, room.id, me: me.id, epoch: room.state.epoch, generation: room.ownGeneration) {
                    reason = RoomPolicy.rotationReason(messagesSent: current.chain.iteration, storedAt: current.storedAt, now: now(), room: room)
                } else {
                    reason = "you have no sender key for this epoch"
                }
                if let reason {
                    let result = try rotate(db, room: room, me: me, deliver: deliverBundle)
                    room = result.room
                    rotation = (result.bundlePath, reason)
                }
                guard let key = try ownSenderKey(db, room.id, me: me.id, epoch: room.state.epoch, generation: room.ownGeneration) else {
                    throw KeyringError.integrityFailure(table: "sender_key")
                }
                var encryptor = MessageEncryptor(info: key.info, signing: try SigningKeyPair(secretKey: key.signingSecret.duplicate()),
                                                 chain: key.chain.duplicate(), random: random)
                let time = now()
                repeat {
                    let iteration = encryptor.iteration
                    let message = try encryptor.encrypt(plaintexts[index])
                    sealed.append(EncryptedMessage(roomID: room.id, roomName: room.name, epoch: key.info.epoch,
                                                   generation: key.info.generation, iteration: iteration, bytes: message.bytes,
                                                   rotationBundle: rotation?.path, rotationReason: rotation?.reason))
                    rotation = nil
                    index += 1
                } while index < plaintexts.count
                    && RoomPolicy.rotationReason(messagesSent: encryptor.iteration, storedAt: key.storedAt, now: time, room: room) == nil
                try writeSenderKey(db, key.with(encryptor.chain.duplicate()))
            }
            return sealed
        }
    }

    /// One transaction of `decryptBatch`: per message the checks of `decrypt`, against the ratchet states this
    /// transaction already moved; then every moved state written once.
    private func decryptTransaction(_ db: Database, _ messages: ArraySlice<RoomMessage>, me: IdentityID,
                                    keep: ((Int, DecryptedMessage) throws -> Void)?) throws -> [Result<DecryptedMessage, any Error>] {
        final class KeyState {
            var record: SenderKeyRecord
            var moved = false
            /// The most skipped message keys it keeps (fewer for a superseded key).
            let keep: Int
            /// True when retention has ended for it, though the prune that deletes it has not run yet.
            let expired: Bool
            init(_ record: consuming SenderKeyRecord, keep: Int, expired: Bool) {
                self.record = record
                self.keep = keep
                self.expired = expired
            }
        }
        struct SenderAt: Hashable { let room: RoomID, sender: IdentityID, epoch: UInt64 }
        var rooms: [RoomID: RoomRecord?] = [:]
        var keys: [[UInt8]: KeyState] = [:]
        var handles: [SenderAt: String] = [:]
        var results: [Result<DecryptedMessage, any Error>] = []
        results.reserveCapacity(messages.count)
        for (index, message) in zip(messages.indices, messages) {
            do {
                let cached = try rooms[message.roomID] ?? loadRoomRecord(db, message.roomID)
                rooms[message.roomID] = cached
                guard let record = cached else { throw MessageError.unknownRoom(message.roomID) }
                let ktag = senderKeyTag(message.roomID, owner: message.sender, keyID: message.keyID)
                let state: KeyState
                if let known = keys[ktag] {
                    state = known
                } else if let loaded = try loadSenderKey(db, message.roomID, keyTag: ktag) {
                    let limit = try skipLimit(db, loaded.info, keyTag: ktag)
                    let expired = try expiredByNow(db, record, ledger: loadLedger(db, message.roomID), epoch: loaded.info.epoch, keyTag: ktag)
                    state = KeyState(loaded, keep: limit, expired: expired)
                    keys[ktag] = state
                } else {
                    // As in `decrypt`: nothing can be verified, so the answer depends on what the header claims.
                    let ledger = try checkEpochAndSender(db, message, record, me: me, everyEpoch: true).ledger
                    if try retentionDeleted(db, ledger: ledger, epoch: message.epoch, keyTag: ktag) {
                        throw MessageError.retentionDeleted(epoch: message.epoch, room: record.name)
                    }
                    throw MessageError.senderKeyMissing(message.sender, epoch: message.epoch, room: record.name)
                }
                var decryptor = MessageDecryptor(info: state.record.info, chain: state.record.chain.duplicate(), keepingSkipped: state.keep)
                let authenticated = try decryptor.authenticate(message)
                let at = SenderAt(room: message.roomID, sender: message.sender, epoch: message.epoch)
                let handle: String
                if let known = handles[at] {
                    handle = known
                } else {
                    handle = try checkEpochAndSender(db, message, record, me: me).handle
                    handles[at] = handle
                }
                guard !state.record.isOwn else { throw MessageError.ownMessage(room: record.name) }
                if state.expired { throw MessageError.retentionDeleted(epoch: message.epoch, room: record.name) }
                let plaintext = try decryptor.open(authenticated)
                let origin = MessageOrigin(roomID: message.roomID, roomName: record.name, sender: message.sender, senderHandle: handle,
                                           epoch: message.epoch, generation: state.record.info.generation, iteration: message.iteration)
                let decrypted = DecryptedMessage(origin: origin, plaintext: plaintext)
                // Kept first: a message whose plaintext could not be kept does not step its key (a later message of the
                // same key leaves its message key among the skipped ones), so it can be decrypted again.
                try keep?(index, decrypted)
                state.record = state.record.with(decryptor.chain.duplicate())
                state.moved = true
                results.append(.success(decrypted))
            } catch let error as DatabaseError {
                throw error
            } catch {
                results.append(.failure(error))
            }
        }
        for state in keys.values where state.moved {
            try writeSenderKey(db, state.record)
        }
        return results
    }
}
