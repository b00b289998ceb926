import CSodium
import Dispatch
import Foundation
import Synchronization

/// Ephemeral X25519 key pairs for sealed boxes, made ahead of the seal on a core that would otherwise wait.
///
/// A command that will seal to many keys starts a pool as soon as it knows about how many (before it loads and checks the
/// roster, which runs on one core); `BatchSeal.seal` then stops the pool, takes the pairs made by then and makes the others
/// itself. Each pair is the one `crypto_box_seal` would draw (`randombytes_buf` for the secret key, then
/// `crypto_scalarmult_base`), is used for one box only, and is wiped with the pool. With or without a pool the boxes are
/// the same construction; only the order of work changes. Half of a sealed box's cost is making its key pair.
public struct EphemeralKeyPool: ~Copyable {
    /// Pools for fewer pairs are not started: the seal's own workers make them as fast.
    public static let minimumPairs = 64

    /// The most pairs one pool makes (4 MiB of keys); the seal makes any beyond.
    public static let maximumPairs = 65_536

    private let state: PoolState?

    /// Starts making up to `pairs` key pairs on another thread, or nothing when `pairs` is below `minimumPairs` or
    /// this machine has one core.
    public init(pairs: Int) {
        let limit = Swift.min(pairs, Self.maximumPairs)
        guard limit >= Self.minimumPairs, BatchSeal.cores > 1, (try? Sodium.ready()) != nil else {
            state = nil
            return
        }
        state = PoolState(limit: limit)
    }

    /// True when the pool makes pairs (it was asked for enough, on a machine with more than one core).
    public var isMaking: Bool { state != nil }

    /// Stops making pairs and returns the ones made, for one seal: the pool is used up, and the pairs are wiped when the
    /// returned value goes.
    consuming func take() -> ReadyPairs? {
        guard let state else { return nil }
        let count = state.stop()
        return count > 0 ? ReadyPairs(state: state, count: count) : nil
    }

    /// **For tests only.** Waits until `pairs` pairs are made (or the pool is full), so that a test knows what a seal
    /// will take. False when the pool made nothing (below `minimumPairs`, or one core).
    package func waitUntilMade(_ pairs: Int) -> Bool {
        guard let state else { return false }
        while !state.hasMade(Swift.min(pairs, state.limit)) { usleep(1_000) }
        return true
    }

    deinit {
        state?.stop()
    }
}

/// The pairs a stopped pool made: `count` secret keys and their public keys, 32 bytes each, read-only from here on.
struct ReadyPairs: @unchecked Sendable {
    fileprivate let state: PoolState
    /// How many pairs were made.
    let count: Int
    /// The secret keys, one after another.
    var secretKeys: UnsafePointer<UInt8> { UnsafePointer(state.secrets) }
    /// The public keys, one after another.
    var publicKeys: UnsafePointer<UInt8> { UnsafePointer(state.publics) }
}

/// The pool's buffers and its one producer thread. Slots below `made` are written once and then only read; the buffers
/// are wiped when the last holder (the pool, the producer, the pairs taken) lets go.
private final class PoolState: @unchecked Sendable {
    let limit: Int
    let secrets: UnsafeMutablePointer<UInt8>
    let publics: UnsafeMutablePointer<UInt8>
    private let made = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let over = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    /// Allocates the buffers and starts the producer.
    init(limit: Int) {
        self.limit = limit
        secrets = .allocate(capacity: limit * 32)
        publics = .allocate(capacity: limit * 32)
        secrets.initialize(repeating: 0, count: limit * 32)
        publics.initialize(repeating: 0, count: limit * 32)
        DispatchQueue.global(qos: .userInitiated).async { self.produce() }
    }

    /// Makes pairs, `BatchSeal.boxesPerDraw` per `randombytes_buf` call as the seal does, until told to stop or full.
    private func produce() {
        defer {
            over.store(true, ordering: .releasing)
            finished.signal()
        }
        var next = 0
        while next < limit, !stopping.load(ordering: .relaxed) {
            let n = Swift.min(BatchSeal.boxesPerDraw, limit - next)
            randombytes_buf(secrets + next * 32, n * 32)
            for i in next..<(next + n) where crypto_scalarmult_base(publics + i * 32, secrets + i * 32) != 0 {
                return  // cannot happen for a clamped scalar; the pairs before this one stand
            }
            next += n
            made.store(next, ordering: .releasing)
        }
    }

    /// True once at least `pairs` pairs are made, or the producer is done.
    func hasMade(_ pairs: Int) -> Bool { over.load(ordering: .acquiring) || made.load(ordering: .acquiring) >= pairs }

    /// Stops the producer, waits for it, and returns how many pairs it made (once; later calls return the same).
    @discardableResult
    func stop() -> Int {
        if !stopped {
            stopping.store(true, ordering: .relaxed)
            finished.wait()
            stopped = true
        }
        return made.load(ordering: .acquiring)
    }

    deinit {
        sodium_memzero(secrets, limit * 32)
        secrets.deallocate()
        publics.deallocate()
    }
}
