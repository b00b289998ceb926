import Foundation
import GRDB
import RoomKeyCore

/// What `encrypt` produced.
public struct EncryptedMessage: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's name.
    public let roomName: String
    /// The epoch of the sender key used.
    public let epoch: UInt64
    /// The generation of the sender key used.
    public let generation: UInt32
    /// The message's ratchet iteration.
    public let iteration: UInt32
    /// The binary message.
    public let bytes: [UInt8]
    /// The bundle of a rotation made first (rotation policy), if any.
    public let rotationBundle: String?
    /// Why that rotation was made.
    public let rotationReason: String?
}

/// Where a decrypted message came from (the plaintext itself goes only to the delivery closure).
public struct MessageOrigin: Sendable {
    /// The room.
    public let roomID: RoomID
    /// The room's name.
    public let roomName: String
    /// The sender.
    public let sender: IdentityID
    /// The sender's handle, from the roster of the message's epoch.
    public let senderHandle: String
    /// The epoch of the message.
    public let epoch: UInt64
    /// The generation of the sender key.
    public let generation: UInt32
    /// The message's ratchet iteration.
    public let iteration: UInt32
}

/// Room messages: encrypt with this member's current sender key, decrypt with the keys others distributed.
extension Keyring {
    /// Encrypts `plaintext` for a room. When the rotation policy says so (or this member has no current key),
    /// a new generation is made first and its bundle handed to `deliverBundle`. The ratchet step is committed
    /// before `deliver` writes the message, so a message key is never used twice: if writing fails, that
    /// iteration is simply skipped.
    public func encrypt(room nameOrID: String, plaintext: [UInt8], deliverBundle: BundleDelivery,
                        deliver: (EncryptedMessage) throws -> Void) throws -> EncryptedMessage {
        // One message is a batch of one: the same rotation policy, key handling and single transaction.
        guard let sealed = try encryptBatch(room: nameOrID, plaintexts: [plaintext], deliverBundle: deliverBundle).first else {
            throw KeyringError.integrityFailure(table: "sender_key")
        }
        try deliver(sealed)
        return sealed
    }

    /// Decrypts a room message. Every check runs before any state changes: the room is known and the sender key the
    /// header names is here, its signature verifies, the key belongs to the header's epoch, that epoch is neither
    /// deleted nor before joining, the sender is a member then and in every later epoch, the iteration is neither
    /// replayed nor too far ahead, and the body authenticates. Then `deliver` gets the plaintext, and only if it
    /// succeeds is the new ratchet state stored.
    ///
    /// `deliver` runs in a read transaction, which blocks no other command: output that waits for its reader (a pager
    /// on a pipe, a FIFO) held the write lock, and every other command failed after 30 s (found by a hostile review).
    /// The state is then advanced past this message in a write transaction, on the state stored by then (a batch
    /// `decrypt` may have read another message of the same key meanwhile). Decrypts of one message take turns
    /// (`DecryptTurn`), so a second one of the same message waits and then finds it read.
    @discardableResult
    public func decrypt(_ message: RoomMessage, deliver: (MessageOrigin, borrowing SecretBytes) throws -> Void) throws -> MessageOrigin {
        try automaticPrune()
        try requireWritable()
        let me = try identityCard().id
        // Decrypts take turns, so that no two hand out the same message before either stores its state.
        let turn = try DecryptTurn(keyring: path)
        defer { turn.release() }
        let origin = try read { db in
            // Before the plaintext is handed out: what the write below reads.
            try requireWhatWritesRead(db)
            return try open(db, message, me: me) { origin, plaintext, _ in try deliver(origin, plaintext) }
        }
        try write { db in
            do {
                _ = try open(db, message, me: me) { _, _, advanced in try writeSenderKey(db, advanced) }
            } catch is MessageError {
                // Read by another process meanwhile (a replay now), or its key or epoch deleted since: nothing to store.
            }
        }
        return origin
    }

    /// The checks and the decryption of `decrypt`, in the caller's transaction: `body` gets the origin, the plaintext
    /// and the key advanced past the message.
    private func open(_ db: Database, _ message: RoomMessage, me: IdentityID,
                      _ body: (MessageOrigin, borrowing SecretBytes, borrowing SenderKeyRecord) throws -> Void) throws -> MessageOrigin {
        guard let record = try loadRoomRecord(db, message.roomID) else { throw MessageError.unknownRoom(message.roomID) }
        let name = record.name
        let ktag = senderKeyTag(message.roomID, owner: message.sender, keyID: message.keyID)
        guard let key = try loadSenderKey(db, message.roomID, keyTag: ktag) else {
            // No key: nothing can be verified, so the answer depends on what the header claims. The sender's tenure is one
            // row whatever the epochs, so the whole of step 5 runs before step 6: a sender removed since is rejected
            // (2), not pending (5), even when the same commit added it back (a review).
            let ledger = try checkEpochAndSender(db, message, record, me: me, everyEpoch: true).ledger
            if try retentionDeleted(db, ledger: ledger, epoch: message.epoch, keyTag: ktag) {
                throw MessageError.retentionDeleted(epoch: message.epoch, room: name)
            }
            throw MessageError.senderKeyMissing(message.sender, epoch: message.epoch, room: name)
        }
        // A stored key: the signature decides first, so an altered header is a rejection, whatever it says.
        var decryptor = MessageDecryptor(info: key.info, chain: key.chain.duplicate(),
                                         keepingSkipped: try skipLimit(db, key.info, keyTag: ktag))
        let authenticated = try decryptor.authenticate(message)
        let (handle, ledger) = try checkEpochAndSender(db, message, record, me: me)
        guard !key.isOwn else { throw MessageError.ownMessage(room: name) }
        // Expired but not pruned yet (the automatic prune runs at most every ten minutes): deleted as far as reading goes.
        if try expiredByNow(db, record, ledger: ledger, epoch: message.epoch, keyTag: ktag) {
            throw MessageError.retentionDeleted(epoch: message.epoch, room: name)
        }
        let plaintext = try decryptor.open(authenticated)
        let origin = MessageOrigin(roomID: message.roomID, roomName: name, sender: message.sender, senderHandle: handle,
                                   epoch: message.epoch, generation: key.info.generation, iteration: message.iteration)
        try body(origin, plaintext, key.with(decryptor.chain.duplicate()))
        return origin
    }

    /// Checks the message's epoch (known here, not deleted, not before joining) and sender (not this keyring, a
    /// member then and since); returns the sender's handle and the room's retention ledger.
    func checkEpochAndSender(_ db: Database, _ message: RoomMessage, _ record: RoomRecord, me: IdentityID,
                             everyEpoch: Bool = true) throws -> (handle: String, ledger: RetentionLedger?) {
        let name = record.name
        if message.epoch > record.epoch { throw MessageError.futureEpoch(epoch: message.epoch, current: record.epoch, room: name) }
        let ledger = try loadLedger(db, message.roomID)
        if message.epoch < (ledger?.floor ?? 0) { throw MessageError.retentionDeleted(epoch: message.epoch, room: name) }
        if message.epoch < record.joinedEpoch { throw MessageError.beforeJoined(epoch: message.epoch, joined: record.joinedEpoch, room: name) }
        if message.sender == me { throw MessageError.ownMessage(room: name) }
        return (try memberHandle(db, message, through: record, everyEpoch: everyEpoch), ledger)
    }

    /// The sender's handle at the message's epoch, after checking it is a member at that epoch and every later one
    /// this keyring accepted (a member removed since is no longer believed, whatever epoch its message claims).
    /// With `everyEpoch` false only the message's epoch and the current one are checked. One read of the sender's
    /// tenure (`MemberTenure` decides), however old the epoch.
    func memberHandle(_ db: Database, _ message: RoomMessage, through record: RoomRecord, everyEpoch: Bool = true) throws -> String {
        try tenure(db, message.roomID, message.sender, through: record.epoch)
            .senderHandle(at: message.epoch, current: record.epoch, everyEpoch: everyEpoch, room: record.name)
    }
}
