import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// The sender-key ratchet on its own: derivation, skipped keys and their limits, replays, purity of every step.
struct SenderChainTests {
    /// A chain at iteration `at` from the chain key 00 01 ... 1f.
    static func chain(at iteration: UInt32 = 0) throws -> SenderChain {
        SenderChain(chainKey: try makeKey(counting(32)), iteration: iteration)
    }

    /// The iteration and message-key bytes of a receive step (noncopyable values cannot go into `#expect`).
    static func receive(_ chain: borrowing SenderChain, _ target: UInt32) throws -> [UInt8] {
        let step = try chain.receiveStep(target)
        return bytesOf(step.messageKey)
    }

    // Independent values: BLAKE2b-256(key = chain, salt = u64 LE id || 0^8, personal = "rkchain1" || 0^8), which is
    // what crypto_kdf_derive_from_key computes (here from Python's hashlib).
    static let mk0 = "437cc7e7ae56dbd05218eae29d95b810d433e1ccfe860b811d102cc6436c16a3"
    static let ck1 = "f736276219556ca3368be4338da2b528fc01cc1fa2bc81ca5c295a269874d753"
    static let mk1 = "411d0ee63e128bd7c945ad57155155e0ba10f9492460f6519a985396e2d45d13"
    static let mk2 = "b559d8a498787fe396de244ee2ebaec7d89c5407eec7ab4695745f9a94aff20c"

    @Test func derivationMatchesTheDefinition() throws {
        let c0 = try Self.chain()
        let s0 = try c0.sendStep()
        #expect(s0.iteration == 0)
        #expect(Hex.encode(bytesOf(s0.messageKey)) == Self.mk0)
        #expect(Hex.encode(bytesOf(s0.chain.chainKey)) == Self.ck1)
        #expect(s0.chain.iteration == 1)
        let s1 = try s0.chain.sendStep()
        #expect(Hex.encode(bytesOf(s1.messageKey)) == Self.mk1)
        // A receiver that skips straight to iteration 2 derives the same key and keeps 0 and 1.
        let r = try c0.receiveStep(2)
        #expect(Hex.encode(bytesOf(r.messageKey)) == Self.mk2)
        #expect(r.chain.skipped.iterations == [0, 1])
        #expect(Hex.encode(try Self.receive(r.chain, 1)) == Self.mk1)
        #expect(Hex.encode(try Self.receive(r.chain, 0)) == Self.mk0)
    }

    @Test func outOfOrderThenReplays() throws {
        var state = try Self.chain()
        var keys: [UInt32: [UInt8]] = [:]
        for target: UInt32 in [5, 2, 4, 0, 6, 1, 3] {
            let step = try state.receiveStep(target)
            keys[target] = bytesOf(step.messageKey)
            state = step.nextChain()
        }
        #expect(state.skipped.count == 0)
        #expect(state.iteration == 7)
        #expect(Set(keys.values).count == 7)
        for target: UInt32 in 0...6 {
            #expect(throws: MessageError.replay(iteration: target)) { _ = try state.receiveStep(target) }
        }
    }

    @Test func aStepNeverChangesItsState() throws {
        let state = try Self.chain()
        let first = try Self.receive(state, 3)
        #expect(try Self.receive(state, 3) == first)
        #expect(state.iteration == 0)
        #expect(state.skipped.count == 0)
        #expect(throws: MessageError.jumpTooFar(from: 0, to: 30_000)) { _ = try state.receiveStep(30_000) }
        #expect(try Self.receive(state, 3) == first)
    }

    @Test func usedKeysLeaveTheState() throws {
        let step = try Self.chain().receiveStep(3)
        let kept = bytesOf(step.chain.skipped.storage)
        let used = try step.chain.receiveStep(1)
        // The used key is gone from the new state's store, and no state holds the message key it returned.
        #expect(used.chain.skipped.iterations == [0, 2])
        let mk = bytesOf(used.messageKey)
        #expect(!contains(bytesOf(used.chain.skipped.storage), mk))
        #expect(contains(kept, mk))
        #expect(bytesOf(used.chain.chainKey) == bytesOf(step.chain.chainKey))
        #expect(bytesOf(step.chain.chainKey) != (try bytesOf(Self.chain().chainKey)))
    }

    @Test func atMost2000SkippedKeysAreKept() throws {
        let step = try Self.chain().receiveStep(2500)
        #expect(step.chain.skipped.count == SenderChain.maxSkipped)
        #expect(step.chain.skipped.iterations.first == 500)
        #expect(step.chain.floor == 500)
        #expect(throws: MessageError.tooOld(iteration: 499, oldest: 500)) { _ = try step.chain.receiveStep(499) }
        let direct = try Self.receive(Self.chain(), 500)
        #expect(try Self.receive(step.chain, 500) == direct)
        // More skips push out the oldest kept keys first.
        let more = try step.chain.receiveStep(2510)
        #expect(more.chain.skipped.count == SenderChain.maxSkipped)
        // 2501..<2510 are new (9 keys), so 500..<509 go.
        #expect(more.chain.skipped.iterations.first == 509)
        #expect(more.chain.floor == 509)
        #expect(throws: MessageError.tooOld(iteration: 508, oldest: 509)) { _ = try more.chain.receiveStep(508) }
        #expect(more.chain.skipped.index(of: 2501) != nil)
    }

    /// A superseded key keeps at most 64 skipped keys, the newest; trimmed, it keeps none and still opens what comes
    /// at or after its iteration.
    @Test func aSupersededKeyKeepsFewerSkippedKeys() throws {
        let step = try Self.chain().receiveStep(2000, keeping: SenderChain.maxSkippedSuperseded)
        #expect(step.chain.skipped.count == SenderChain.maxSkippedSuperseded)
        #expect(step.chain.skipped.iterations.first == 2000 - UInt32(SenderChain.maxSkippedSuperseded))
        #expect(try Self.receive(step.chain, 1999) == Self.receive(Self.chain(), 1999))
        let trimmed = step.chain.trimmed()
        #expect(trimmed.skipped.count == 0 && trimmed.floor == 2001 && trimmed.iteration == 2001)
        #expect(throws: MessageError.tooOld(iteration: 1999, oldest: 2001)) { _ = try trimmed.receiveStep(1999) }
        #expect(try Self.receive(trimmed, 2005) == Self.receive(Self.chain(), 2005))
        // A limit above 2,000 is 2,000.
        #expect(try Self.chain().receiveStep(2500, keeping: 5000).chain.skipped.count == SenderChain.maxSkipped)
    }

    @Test func evictionAfterUseRaisesTheFloorPastUsedIterations() throws {
        // Keep 0..<1999 skipped, use 1999 (the target), then jump by 3: three old keys go.
        let a = try Self.chain().receiveStep(1999)
        #expect(a.chain.skipped.count == 1999)
        let b = try a.chain.receiveStep(2003)
        #expect(b.chain.skipped.count == SenderChain.maxSkipped)
        #expect(b.chain.floor == 2)
        #expect(b.chain.skipped.iterations.prefix(2) == [2, 3])
        #expect(b.chain.skipped.iterations.suffix(3) == [2000, 2001, 2002])
        #expect(throws: MessageError.replay(iteration: 1999)) { _ = try b.chain.receiveStep(1999) }
    }

    @Test func aJumpOf25000IsTheLimit() throws {
        let state = try Self.chain(at: 10)
        let ok = try state.receiveStep(10 + SenderChain.maxJump)
        #expect(ok.chain.iteration == 10 + SenderChain.maxJump + 1)
        #expect(ok.chain.skipped.count == SenderChain.maxSkipped)
        #expect(throws: MessageError.jumpTooFar(from: 10, to: 10 + SenderChain.maxJump + 1)) {
            _ = try state.receiveStep(10 + SenderChain.maxJump + 1)
        }
        #expect(throws: MessageError.tooOld(iteration: 9, oldest: 10)) { _ = try state.receiveStep(9) }
    }

    @Test func theChainEndsCleanly() throws {
        let last = try Self.chain(at: UInt32.max)
        #expect(throws: MessageError.chainExhausted) { _ = try last.sendStep() }
        let near = try Self.chain(at: UInt32.max - 1)
        #expect(throws: MessageError.iterationOutOfRange(UInt32.max)) { _ = try near.receiveStep(UInt32.max) }
        #expect(try near.sendStep().chain.iteration == UInt32.max)
    }

    @Test func inconsistentStoredStatesAreRefused() throws {
        let entry = [0, 0, 0, 7] + counting(32)
        #expect(throws: MessageError.corruptState) {
            _ = try SkippedKeys(flat: makeSecret(entry), range: 0..<5, limit: 10)
        }
        #expect(throws: MessageError.corruptState) {
            _ = try SkippedKeys(flat: makeSecret(entry + entry), range: 0..<9, limit: 10)
        }
        #expect(throws: MessageError.corruptState) {
            _ = try SkippedKeys(flat: makeSecret(Array(entry.dropLast())), range: 0..<9, limit: 10)
        }
        #expect(throws: MessageError.corruptState) {
            _ = try SenderChain(chainKey: makeKey(counting(32)), iteration: 3, floor: 4, skipped: SkippedKeys())
        }
        #expect(throws: MessageError.corruptState) {
            let ok = try SkippedKeys(flat: makeSecret(entry), range: 0..<9, limit: 10)
            _ = try SenderChain(chainKey: makeKey(counting(32)), iteration: 7, floor: 0, skipped: ok)
        }
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
