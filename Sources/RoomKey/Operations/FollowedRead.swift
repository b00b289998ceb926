import Foundation
import RoomKeyCore

/// A large bundle read on the caller's thread while another thread hashes its stanza list right behind the reader
/// (`StanzaHashFollower`): for a 12 MB bundle the hash is then mostly done when the last byte is read, instead of
/// starting after it. The bytes land in an array that the hashing thread makes and keeps until both are done, so each
/// byte is written once, by the reader, before the follower reads it, and never again: the hash is of these bytes.
package final class FollowedRead: @unchecked Sendable {
    /// Guards `buffer`, `ready`, `arrived` and `finished`: wakes the reader once the buffer is made, and the follower
    /// when more bytes arrived.
    private let lock = NSCondition()
    private var buffer: UnsafeMutableRawPointer?
    private var ready = false
    private var arrived = 0
    private var finished = false
    private let done = DispatchGroup()
    /// Written by the follower before it leaves `done`, read only after waiting for it.
    private var result: (bytes: [UInt8], stanzaHash: RoomKeyCore.Bundle.StanzaHash?) = ([], nil)
    /// The first bytes read (up to 16), for deciding what the input is without waiting for the follower.
    package private(set) var head: [UInt8] = []
    /// How many bytes were read.
    package private(set) var count = 0

    /// Reads up to `capacity` bytes (at least 1) with `read`, on this thread, in chunks of `chunk` bytes: `read` is given
    /// where to put the next bytes and how many it may put, and returns how many it put (0 at the end). Its errors are
    /// thrown; the follower is let go either way. Nil, having read nothing, when no thread could be started for the
    /// follower (the caller then reads on its own).
    package static func read(capacity: Int, chunk: Int = 256 * 1024,
                             using read: (UnsafeMutableRawPointer, Int) throws -> Int) throws -> FollowedRead? {
        let followed = FollowedRead()
        guard followed.startFollower(capacity: max(capacity, 1)) else { return nil }
        try followed.fill(capacity: max(capacity, 1), chunk: max(chunk, 1), read)
        return followed
    }

    /// The bytes read, and their stanza hash if they hold a whole stanza list (waits for the follower).
    package var bytesAndStanzaHash: (bytes: [UInt8], stanzaHash: RoomKeyCore.Bundle.StanzaHash?) {
        done.wait()
        return result
    }

    private init() {}

    /// Starts the follower on a thread of its own, not a shared queue's: the reader waits for it, and a queue whose
    /// threads are all waiting (for this or another read) might never run it. False if no thread could be made.
    private func startFollower(capacity: Int) -> Bool {
        done.enter()
        let started = FollowerThread.start { [self] in
            var follower = StanzaHashFollower()
            let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { space, filled in
                lock.lock()
                buffer = space.baseAddress.map(UnsafeMutableRawPointer.init)
                ready = true
                lock.broadcast()
                var seen = 0
                while true {
                    while arrived == seen, !finished { lock.wait() }
                    let (now, end) = (arrived, finished)
                    lock.unlock()
                    if now > seen, let base = space.baseAddress {
                        follower.advance(UnsafeRawBufferPointer(start: base, count: now))
                        seen = now
                    }
                    if end {
                        filled = now
                        return
                    }
                    lock.lock()
                }
            }
            result = (bytes, follower.finish())
            done.leave()
        }
        if !started { done.leave() }
        return started
    }

    /// The reader's side: fills the follower's buffer chunk by chunk, telling it after each chunk, and tells it the end
    /// (also when `read` throws) after which this thread no longer touches the buffer.
    private func fill(capacity: Int, chunk: Int, _ read: (UnsafeMutableRawPointer, Int) throws -> Int) throws {
        lock.lock()
        while !ready { lock.wait() }
        let base = buffer
        lock.unlock()
        var total = 0
        defer {
            lock.lock()
            arrived = total
            finished = true
            lock.signal()
            lock.unlock()
        }
        guard let base else { return }
        while total < capacity {
            let n = try read(base + total, min(chunk, capacity - total))
            if n <= 0 { break }
            total += min(n, capacity - total)
            if head.count < 16 { head = Array(UnsafeRawBufferPointer(start: base, count: min(total, 16))) }
            lock.lock()
            arrived = total
            lock.signal()
            lock.unlock()
        }
        count = total
    }
}

/// A detached POSIX thread for one closure, whose creation is checked (Foundation's `Thread` does not say when
/// `pthread_create` fails).
private enum FollowerThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread; false, without running it, if the thread could not be made.
    static func start(_ body: @escaping () -> Void) -> Bool {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}
