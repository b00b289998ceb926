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
    public static func seal(_ message: borrowing SecretBytes, keys: [UInt8], into out: inout [UInt8], offset: Int,
                            stride: Int) throws(CryptoError) {
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
                    spread(n, chunk: 16, minimumPerWorker: 64) { i in
                        if crypto_box_seal(outBase + offset + i * stride, msg, length, keyBase + i * keyLength) != 0 {
                            failures.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
        }
        if failures.load(ordering: .relaxed) != 0 { throw .operationFailed("crypto_box_seal") }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over every core (one worker per `minimumPerWorker` items at
    /// most). Workers take `chunk` items at a time from one shared counter until none are left, so a worker that starts
    /// late or runs slower takes fewer and all of them end together: a fixed half each left one core idle at the end.
    package static func spread(_ count: Int, chunk: Int, minimumPerWorker: Int, _ body: @Sendable (Int) -> Void) {
        let workers = max(1, min(cores, count / max(minimumPerWorker, 1)))
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        let step = max(chunk, 1)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let start = next.add(step, ordering: .relaxed).oldValue
                if start >= count { return }
                for i in start..<min(start + step, count) { body(i) }
            }
        }
    }

    /// **For known-answer tests only; production code never calls this.** Writes the same layout as `seal`, one box
    /// per key, on the calling thread, box *i* made by `SealingPublicKey.sealForKnownAnswerTests` with the ephemeral
    /// seed `ephemeralSeeds[i]` (32 bytes), so that a bundle's stanzas are reproducible byte for byte.
    package static func sealForKnownAnswerTests(_ message: borrowing SecretBytes, keys: [UInt8], ephemeralSeeds: [[UInt8]],
                                                into out: inout [UInt8], offset: Int, stride: Int) throws(CryptoError) {
        let keyLength = SealingPublicKey.length
        let boxLength = message.count + SealingPublicKey.sealOverhead
        let n = keys.count / keyLength
        guard keys.count % keyLength == 0, ephemeralSeeds.count == n, stride >= boxLength, offset >= 0,
              n == 0 || offset + (n - 1) * stride + boxLength <= out.count else {
            throw .invalidLength(what: "batch seal buffers", expected: offset + n * stride, found: out.count)
        }
        for i in 0..<n {
            let key = try SealingPublicKey(bytes: Array(keys[(i * keyLength)..<((i + 1) * keyLength)]))
            let box = try message.withUnsafeBytes { (m) throws(CryptoError) in
                try key.sealForKnownAnswerTests(m, ephemeralSeed: ephemeralSeeds[i])
            }
            out.replaceSubrange((offset + i * stride)..<(offset + i * stride + boxLength), with: box)
        }
    }
}
