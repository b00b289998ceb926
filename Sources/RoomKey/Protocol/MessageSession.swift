/// Encrypts room messages with one own sender key, in memory: the protocol work of `Keyring.encrypt` without storage.
public struct MessageEncryptor: ~Copyable {
    /// The sender key's description.
    public let info: SenderKeyInfo
    private let signing: SigningKeyPair
    private var chain: SenderChain
    private let random: any RandomSource

    /// Starts at the key's current iteration.
    public init(key: consuming OwnSenderKey, random: any RandomSource) {
        let own = key
        info = own.shared.info
        chain = SenderChain(chainKey: own.shared.chainKey.duplicate(), iteration: own.shared.info.iteration)
        signing = own.signing
        self.random = random
    }

    /// The next iteration to be used.
    public var iteration: UInt32 { chain.iteration }

    /// Encrypts and signs the next message, then ratchets forward (the used keys are wiped).
    public mutating func encrypt(_ plaintext: [UInt8]) throws(MessageError) -> RoomMessage {
        let step = try chain.sendStep()
        let message = try RoomMessage.seal(roomID: info.roomID, epoch: info.epoch, sender: info.owner, keyID: info.keyID,
                                           iteration: step.iteration, plaintext: plaintext, messageKey: step.messageKey,
                                           signer: signing, random: random)
        chain = step.chain
        return message
    }
}

/// Decrypts one sender key's room messages, in memory: the protocol work of `Keyring.decrypt` without storage.
public struct MessageDecryptor: ~Copyable {
    /// The sender key's description.
    public let info: SenderKeyInfo
    /// The ratchet state.
    public private(set) var chain: SenderChain

    /// Starts from a sender key as distributed.
    public init(key: borrowing SenderKey) {
        info = key.info
        chain = SenderChain(chainKey: key.chainKey.duplicate(), iteration: key.info.iteration)
    }

    /// Checks that the message belongs to this key, verifies its signature, then decrypts it; the state moves on only
    /// when every check passed.
    public mutating func decrypt(_ message: RoomMessage) throws(MessageError) -> SecretBytes {
        try Self.check(message, against: info)
        try message.verify(info.signingKey)
        let step = try chain.receiveStep(message.iteration)
        let plaintext = try message.open(step.messageKey)
        chain = step.chain
        return plaintext
    }

    /// The message names this key: same room, sender, key id and epoch.
    static func check(_ message: RoomMessage, against info: SenderKeyInfo) throws(MessageError) {
        guard message.roomID == info.roomID, message.sender == info.owner, message.keyID == info.keyID else {
            throw .signatureInvalid
        }
        guard message.epoch == info.epoch else { throw .keyMismatch(epoch: message.epoch, keyEpoch: info.epoch) }
    }
}
