/// Encrypts room messages with one own sender key: the only implementation, used by `Keyring.encrypt` and in memory.
public struct MessageEncryptor: ~Copyable {
    /// The sender key's description.
    public let info: SenderKeyInfo
    private let signing: SigningKeyPair
    /// The ratchet state: after `encrypt`, the state to store.
    public private(set) var chain: SenderChain
    private let random: any RandomSource

    /// Starts at the key's current iteration.
    public init(key: consuming OwnSenderKey, random: any RandomSource) {
        let own = key
        info = own.shared.info
        chain = SenderChain(chainKey: own.shared.chainKey.duplicate(), iteration: own.shared.info.iteration)
        signing = own.signing
        self.random = random
    }

    /// Continues a stored own key: its description, signing key pair and ratchet state.
    public init(info: SenderKeyInfo, signing: consuming SigningKeyPair, chain: consuming SenderChain, random: any RandomSource) {
        self.info = info
        self.signing = signing
        self.chain = chain
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
        chain = step.nextChain()
        return message
    }
}

/// A message whose key, epoch and signature `MessageDecryptor.authenticate` checked.
public struct AuthenticatedMessage: Sendable {
    /// The message.
    public let message: RoomMessage
    fileprivate init(_ message: RoomMessage) { self.message = message }
}

/// Decrypts one sender key's room messages: the only implementation, used by `Keyring.decrypt` and in memory.
public struct MessageDecryptor: ~Copyable {
    /// The sender key's description.
    public let info: SenderKeyInfo
    /// The ratchet state: after `open`, the state to store.
    public private(set) var chain: SenderChain
    /// The most skipped message keys this state keeps.
    private var keepSkipped = SenderChain.maxSkipped

    /// Starts from a sender key as distributed.
    public init(key: borrowing SenderKey) {
        info = key.info
        chain = SenderChain(chainKey: key.chainKey.duplicate(), iteration: key.info.iteration)
    }

    /// Continues a stored key: its description and ratchet state, keeping at most `keepingSkipped` skipped message
    /// keys (`SenderChain.maxSkippedSuperseded` for a superseded key).
    public init(info: SenderKeyInfo, chain: consuming SenderChain, keepingSkipped: Int = SenderChain.maxSkipped) {
        self.info = info
        self.chain = chain
        self.keepSkipped = keepingSkipped
    }

    /// Checks that the message belongs to this key, verifies its signature, then decrypts it; the state moves on only
    /// when every check passed.
    public mutating func decrypt(_ message: RoomMessage) throws(MessageError) -> SecretBytes {
        try open(try authenticate(message))
    }

    /// The checks that touch no state: the message names this key (room, sender, key id, epoch) and its signature
    /// verifies. Run before anything else looks at the header.
    public func authenticate(_ message: RoomMessage) throws(MessageError) -> AuthenticatedMessage {
        try message.verify(info.signingKey)
        try Self.check(message, against: info)
        return AuthenticatedMessage(message)
    }

    /// Decrypts an authenticated message; the ratchet moves on only when the body opens.
    public mutating func open(_ authenticated: AuthenticatedMessage) throws(MessageError) -> SecretBytes {
        let step = try chain.receiveStep(authenticated.message.iteration, keeping: keepSkipped)
        let plaintext = try authenticated.message.open(step.messageKey)
        chain = step.nextChain()
        return plaintext
    }

    /// The message names this key: same room, sender, key id and epoch.
    package static func check(_ message: RoomMessage, against info: SenderKeyInfo) throws(MessageError) {
        guard message.roomID == info.roomID, message.sender == info.owner, message.keyID == info.keyID else {
            throw .signatureInvalid
        }
        guard message.epoch == info.epoch else { throw .keyMismatch(epoch: message.epoch, keyEpoch: info.epoch) }
    }
}
