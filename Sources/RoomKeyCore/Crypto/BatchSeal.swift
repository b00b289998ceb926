import CSodium
import Dispatch
import Foundation
import Synchronization

/// `crypto_box_seal` of one secret to many X25519 keys at once, spread over every core.
///
/// The loop works on flat buffers only (no Swift objects are touched per recipient), so the threads share
/// nothing but read-only memory and each writes its own slots.
public enum BatchSeal {
    /// The number of cores used for sealing.
    public static let cores: Int = {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? Int(n) : 1
    }()

    /// Seals `message` to each key of `keys` (32 bytes each, concatenated). Box *i* is written to
    /// `out[offset + i * stride ..< offset + i * stride + message.count + 48]`.
    ///
    /// Each box is exactly what `crypto_box_seal` makes, built from the same libsodium calls in the same order
    /// (ephemeral key pair, `nonce = BLAKE2b-192(epk || pk)`, `crypto_box_easy`, `epk || box`), except that the
    /// ephemeral secret keys of a chunk come from one `randombytes_buf` call: `crypto_box_seal` asks the kernel once
    /// per box, a system call that was about 3 % of a 10,000-recipient seal (`Benchmarks/seal_loop.c`).
    /// With a `pool`, the first boxes take the ephemeral key pairs it made ahead (see `EphemeralKeyPool`); returns how
    /// many did. On failure (a low-order key) it throws, and `out` may hold some boxes already: callers discard it.
    @discardableResult
    public static func seal(_ message: borrowing SecretBytes, keys: [UInt8], into out: inout [UInt8], offset: Int,
                            stride: Int, pool: consuming EphemeralKeyPool? = nil) throws(CryptoError) -> Int {
        let ready: ReadyPairs?
        switch consume pool {
        case let .some(made): ready = made.take()
        case .none: ready = nil
        }
        try sealBoxes(message, keys: keys, into: &out, offset: offset, stride: stride, parallel: true, ready: ready) { secrets, range in
            randombytes_buf(secrets, range.count * SealingKeyPair.secretLength)
            return true
        }
        return Swift.min(ready?.count ?? 0, keys.count / SealingPublicKey.length)
    }

    /// **For known-answer tests only; production code never calls this.** `seal`, on the calling thread, with box *i*'s
    /// ephemeral key pair derived from the 32-byte seed `ephemeralSeeds[i]` (`crypto_box_seed_keypair`) instead of drawn
    /// at random: the production construction, reproducible byte for byte (what the bundle vectors in fixtures/ pin).
    package static func sealForKnownAnswerTests(_ message: borrowing SecretBytes, keys: [UInt8], ephemeralSeeds: [[UInt8]],
                                                into out: inout [UInt8], offset: Int, stride: Int) throws(CryptoError) {
        let n = keys.count / SealingPublicKey.length
        guard ephemeralSeeds.count == n, ephemeralSeeds.allSatisfy({ $0.count == Int(crypto_box_SEEDBYTES) }) else {
            throw .invalidLength(what: "ephemeral seeds", expected: n, found: ephemeralSeeds.count)
        }
        try sealBoxes(message, keys: keys, into: &out, offset: offset, stride: stride, parallel: false) { secrets, range in
            var publicKey = [UInt8](repeating: 0, count: SealingPublicKey.length)
            for (j, i) in range.enumerated() {
                let secret = secrets + j * SealingKeyPair.secretLength
                if crypto_box_seed_keypair(&publicKey, secret, ephemeralSeeds[i]) != 0 { return false }
            }
            return true
        }
    }

    /// Checks the buffers, then seals every box chunk by chunk (over every core when `parallel`), each chunk's
    /// ephemeral secret keys written by `draw(secrets, range)` (32 bytes per box of `range`; false fails the batch).
    private static func sealBoxes(_ message: borrowing SecretBytes, keys: [UInt8], into out: inout [UInt8], offset: Int,
                                  stride: Int, parallel: Bool, ready: ReadyPairs? = nil,
                                  draw: @Sendable (UnsafeMutablePointer<UInt8>, Range<Int>) -> Bool) throws(CryptoError) {
        try Sodium.ready()
        let keyLength = SealingPublicKey.length
        let boxLength = message.count + SealingPublicKey.sealOverhead
        let n = keys.count / keyLength
        guard keys.count % keyLength == 0, stride >= boxLength, offset >= 0,
              n == 0 || offset + (n - 1) * stride + boxLength <= out.count else {
            throw .invalidLength(what: "batch seal buffers", expected: offset + n * stride, found: out.count)
        }
        if n == 0 { return }
        let failures = Atomic<Int>(0)
        message.withUnsafeBytes { m in
            keys.withUnsafeBytes { k in
                out.withUnsafeMutableBytes { o in
                    // n > 0, so both buffers are non-empty and have base addresses.
                    nonisolated(unsafe) let msg = m.baseAddress?.assumingMemoryBound(to: UInt8.self)
                    nonisolated(unsafe) let keyBase = k.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    nonisolated(unsafe) let outBase = o.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    let length = UInt64(m.count)
                    spreadChunks(n, chunk: boxesPerDraw, minimumPerWorker: parallel ? 64 : n + 1) { range in
                        if !sealChunk(range, msg: msg, length: length, keys: keyBase, out: outBase + offset, stride: stride,
                                      ready: ready, draw: draw) {
                            failures.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
        }
        if failures.load(ordering: .relaxed) != 0 { throw .operationFailed("crypto_box_seal") }
    }

    /// Boxes sealed per chunk, whose ephemeral secret keys come from one `randombytes_buf` call (libsodium 1.0.18 splits
    /// it into 256-byte `getrandom` calls: two per chunk, against sixteen for sixteen `crypto_box_seal` calls).
    static let boxesPerDraw = 16

    /// Seals the boxes of `range` (at most `boxesPerDraw`); false if libsodium refused one (a low-order key).
    /// Boxes below `ready.count` take their key pair from `ready`; the others draw theirs through `draw`.
    private static func sealChunk(_ range: Range<Int>, msg: UnsafePointer<UInt8>?, length: UInt64, keys: UnsafePointer<UInt8>,
                                  out: UnsafeMutablePointer<UInt8>, stride: Int, ready: ReadyPairs?,
                                  draw: (UnsafeMutablePointer<UInt8>, Range<Int>) -> Bool) -> Bool {
        precondition(range.count <= boxesPerDraw, "a seal chunk holds at most boxesPerDraw boxes")
        let skLength = SealingKeyPair.secretLength, pkLength = SealingPublicKey.length
        let made = ready?.count ?? 0
        let fresh = Swift.max(range.lowerBound, Swift.min(made, range.upperBound))..<range.upperBound
        // Per chunk: the ephemeral secret keys, then `epk || pk`, the input of the nonce's hash.
        let scratch = boxesPerDraw * skLength + 2 * pkLength
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratch) { buffer in
            let esk = buffer.baseAddress!, hashInput = esk + boxesPerDraw * skLength
            defer { sodium_memzero(esk, scratch) }
            if !fresh.isEmpty { guard draw(esk, fresh) else { return false } }
            var ok = true
            var nonce = [UInt8](repeating: 0, count: Int(crypto_box_NONCEBYTES))
            for i in range {
                let box = out + i * stride, pk = keys + i * pkLength
                let sk: UnsafePointer<UInt8>
                if let ready, i < made {
                    // A pair made ahead: its public key goes where crypto_box_seal puts the ephemeral key.
                    sk = ready.secretKeys + i * skLength
                    box.update(from: ready.publicKeys + i * pkLength, count: pkLength)
                } else {
                    sk = UnsafePointer(esk + (i - fresh.lowerBound) * skLength)
                    // The ephemeral public key goes straight to the box's first 32 bytes, where crypto_box_seal puts it.
                    guard crypto_scalarmult_base(box, sk) == 0 else { ok = false; continue }
                }
                hashInput.initialize(from: box, count: pkLength)
                (hashInput + pkLength).initialize(from: pk, count: pkLength)
                guard crypto_generichash(&nonce, nonce.count, hashInput, UInt64(2 * pkLength), nil, 0) == 0,
                      crypto_box_easy(box + pkLength, msg, length, nonce, pk, sk) == 0 else { ok = false; continue }
            }
            return ok
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over every core (one worker per `minimumPerWorker` items at
    /// most). Workers take `chunk` items at a time from one shared counter until none are left, so a worker that starts
    /// late or runs slower takes fewer and all of them end together: a fixed half each left one core idle at the end.
    package static func spread(_ count: Int, chunk: Int, minimumPerWorker: Int, _ body: @Sendable (Int) -> Void) {
        spreadChunks(count, chunk: chunk, minimumPerWorker: minimumPerWorker) { range in
            for i in range { body(i) }
        }
    }

    /// Like `spread`, but hands each worker its chunk whole: `body` gets ranges of at most `chunk` items that together
    /// cover `0..<count` exactly once.
    package static func spreadChunks(_ count: Int, chunk: Int, minimumPerWorker: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let workers = max(1, min(cores, count / max(minimumPerWorker, 1)))
        let step = max(chunk, 1)
        if workers == 1 {
            for start in Swift.stride(from: 0, to: count, by: step) { body(start..<min(start + step, count)) }
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let start = next.add(step, ordering: .relaxed).oldValue
                if start >= count { return }
                body(start..<min(start + step, count))
            }
        }
    }
}
