/// The sender-key ratchet of one sender key (DESIGN §3), as its owner or a receiver holds it.
///
/// `message_key_i = KDF(chain_i, 1)` and `chain_{i+1} = KDF(chain_i, 2)`, both `crypto_kdf_derive_from_key` with the
/// context `"rkchain1"`. The state is the chain key at `iteration` (the next iteration not yet derived), the message
/// keys a receiver skipped over (at most `maxSkipped`), and `floor`: no key is kept for any iteration below it. An
/// iteration at or above `floor` and below `iteration` with no kept key was already used. Steps never change a state;
/// they return a new one, so a caller commits it only once the message checked out. Every key is wiped when it ends.
public struct SenderChain: ~Copyable {
    /// The `crypto_kdf` context of the ratchet.
    public static let context = KDFContext("rkchain1")
    /// The KDF subkey id of a message key.
    public static let messageKeyID: UInt64 = 1
    /// The KDF subkey id of the next chain key.
    public static let chainKeyID: UInt64 = 2
    /// The most skipped message keys a receiver keeps per sender key (Signal's limit).
    public static let maxSkipped = 2000
    /// The most skipped message keys a receiver keeps for a superseded sender key beyond its member's newest 64: a
    /// member who rotates without end, each key with a message far along its chain, makes a receiver keep this many
    /// per key, not 2,000.
    public static let maxSkippedSuperseded = 64
    /// The largest forward jump a receiver accepts in one message (Signal's limit).
    public static let maxJump: UInt32 = 25000

    /// The chain key at `iteration`.
    public let chainKey: SymmetricKey
    /// The next iteration whose keys are not yet derived.
    public let iteration: UInt32
    /// No message key is kept for iterations below this.
    public let floor: UInt32
    /// Kept keys of skipped iterations, all in `floor..<iteration`.
    public let skipped: SkippedKeys

    /// A fresh chain at `iteration` with nothing skipped (a key as distributed, or a new own key).
    public init(chainKey: consuming SymmetricKey, iteration: UInt32) {
        self.chainKey = chainKey
        self.iteration = iteration
        self.floor = iteration
        self.skipped = SkippedKeys()
    }

    /// Restores a stored state, checking that it is consistent.
    public init(chainKey: consuming SymmetricKey, iteration: UInt32, floor: UInt32,
                skipped: consuming SkippedKeys) throws(MessageError) {
        guard floor <= iteration, skipped.count <= Self.maxSkipped else { throw .corruptState }
        if skipped.count > 0 {
            guard skipped.iteration(at: 0) >= floor, skipped.iteration(at: skipped.count - 1) < iteration else { throw .corruptState }
        }
        self.chainKey = chainKey
        self.iteration = iteration
        self.floor = floor
        self.skipped = skipped
    }

    private init(unchecked chainKey: consuming SymmetricKey, iteration: UInt32, floor: UInt32, skipped: consuming SkippedKeys) {
        self.chainKey = chainKey
        self.iteration = iteration
        self.floor = floor
        self.skipped = skipped
    }

    /// The sender's step: the message key of `iteration` and the chain after it.
    public func sendStep() throws(MessageError) -> RatchetStep {
        guard iteration < UInt32.max else { throw .chainExhausted }
        let next = iteration + 1
        return RatchetStep(iteration: iteration,
                           messageKey: chainKey.derive(subkey: Self.messageKeyID, context: Self.context),
                           chain: SenderChain(unchecked: chainKey.derive(subkey: Self.chainKeyID, context: Self.context),
                                              iteration: next, floor: next, skipped: SkippedKeys()))
    }

    /// The receiver's step for a message at `target`: its key, and the state with that key used up.
    ///
    /// A target below `iteration` needs a kept skipped key (else it is a replay, or older than every kept key);
    /// a target ahead derives and keeps the keys in between, at most `maxSkipped` in all (the oldest go first),
    /// and is refused beyond `maxJump`.
    public func receiveStep(_ target: UInt32, keeping limit: Int = maxSkipped) throws(MessageError) -> RatchetStep {
        if target < iteration {
            guard let index = skipped.index(of: target) else {
                if target < floor { throw .tooOld(iteration: target, oldest: floor) }
                throw .replay(iteration: target)
            }
            return RatchetStep(iteration: target, messageKey: try skipped.key(at: index),
                               chain: SenderChain(unchecked: chainKey.duplicate(), iteration: iteration, floor: floor,
                                                  skipped: skipped.removing(at: index)))
        }
        let jump = target - iteration
        guard jump <= Self.maxJump else { throw .jumpTooFar(from: iteration, to: target) }
        guard target < UInt32.max else { throw .iterationOutOfRange(target) }
        // Of the old entries and the `jump` new ones, only the newest `limit` (at most `maxSkipped`) are kept.
        let total = skipped.count + Int(jump)
        let drop = max(0, total - min(limit, Self.maxSkipped))
        let dropOld = min(drop, skipped.count)
        let firstNew = iteration + UInt32(drop - dropOld)
        var newFloor = floor
        if dropOld > 0 { newFloor = skipped.iteration(at: dropOld - 1) + 1 }
        if drop > dropOld { newFloor = firstNew }
        var chain = chainKey.duplicate()
        var i = iteration
        while i < firstNew {
            chain = chain.derive(subkey: Self.chainKeyID, context: Self.context)
            i += 1
        }
        let extra = SecretBytes(count: Int(target - firstNew) * SkippedKeys.entryLength) { out in
            var offset = 0
            while i < target {
                let key = chain.derive(subkey: Self.messageKeyID, context: Self.context)
                out[offset] = UInt8(truncatingIfNeeded: i >> 24)
                out[offset + 1] = UInt8(truncatingIfNeeded: i >> 16)
                out[offset + 2] = UInt8(truncatingIfNeeded: i >> 8)
                out[offset + 3] = UInt8(truncatingIfNeeded: i)
                key.bytes.withUnsafeBytes { k in
                    UnsafeMutableRawBufferPointer(rebasing: out[(offset + 4)..<(offset + SkippedKeys.entryLength)]).copyMemory(from: k)
                }
                offset += SkippedKeys.entryLength
                chain = chain.derive(subkey: Self.chainKeyID, context: Self.context)
                i += 1
            }
        }
        let messageKey = chain.derive(subkey: Self.messageKeyID, context: Self.context)
        let next = chain.derive(subkey: Self.chainKeyID, context: Self.context)
        return RatchetStep(iteration: target, messageKey: messageKey,
                           chain: SenderChain(unchecked: next, iteration: target + 1, floor: newFloor,
                                              skipped: skipped.keeping(from: dropOld, appending: extra)))
    }

    /// This state without its skipped message keys: every iteration below the chain's is then out of reach.
    public func trimmed() -> SenderChain {
        SenderChain(unchecked: chainKey.duplicate(), iteration: iteration, floor: iteration, skipped: SkippedKeys())
    }

    /// A copy of this state.
    public func duplicate() -> SenderChain {
        SenderChain(unchecked: chainKey.duplicate(), iteration: iteration, floor: floor, skipped: skipped.duplicate())
    }
}

/// One ratchet step: the message key of `iteration` and the chain state after it.
public struct RatchetStep: ~Copyable {
    /// The iteration the key belongs to.
    public let iteration: UInt32
    /// The message key (XChaCha20-Poly1305 key of that message).
    public let messageKey: SymmetricKey
    /// The state to commit once the message checked out.
    public let chain: SenderChain

    /// Ends the step, keeping only the new state (the message key is wiped).
    public consuming func nextChain() -> SenderChain { chain }
}
