import Foundation
import Synchronization
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

private typealias Bundle = RoomKeyCore.Bundle

/// `FollowedRead`: a bundle read on one thread while another hashes its stanza list gives the bytes read, exactly, and
/// the parser's stanza hash, whatever pieces the reads return; a failed read is thrown without leaving a thread waiting.
@Suite struct FollowedReadTests {
    /// A source that hands out `bytes` a few at a time (sizes cycling through `pieces`), like a pipe or a slow disk.
    final class Source: @unchecked Sendable {
        let bytes: [UInt8]
        let pieces: [Int]
        var at = 0
        var call = 0
        let failAt: Int?

        init(_ bytes: [UInt8], pieces: [Int], failAt: Int? = nil) {
            self.bytes = bytes
            self.pieces = pieces
            self.failAt = failAt
        }

        func read(_ into: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
            if let failAt, at >= failAt { throw POSIXError(.EIO) }
            let n = min(count, pieces[call % pieces.count], bytes.count - at)
            call += 1
            bytes.withUnsafeBytes { all in
                if n > 0, let base = all.baseAddress { into.copyMemory(from: base + at, byteCount: n) }
            }
            at += n
            return n
        }
    }

    static func bundle(pq: Int) throws -> [UInt8] {
        let recipients = try (0...pq).map { i in
            StanzaRecipient(id: IdentityID(signingKey: try SigningKeyPair.generate().publicKey),
                            sealingKey: try SealingKeyPair.generate().publicKey,
                            xwingKey: i == 0 ? nil : try XWingKeyPair.generate().publicKey)
        }
        return try BundleSealer.seal(roomID: RoomID.random(using: try SystemRandom()), epoch: 1, signer: try SigningKeyPair.generate(),
                                     recipients: recipients, content: BundleContent.encode(commits: []), random: try SystemRandom())
    }

    @Test(arguments: [[1], [3, 1_000, 17], [1 << 20]])
    func theBytesAndHashAreTheParsers(pieces: [Int]) throws {
        for bytes in [try Self.bundle(pq: 0), try Self.bundle(pq: 4)] {
            let source = Source(bytes, pieces: pieces)
            let read = try #require(try FollowedRead.read(capacity: bytes.count + 1, chunk: 300, using: source.read))
            #expect(read.count == bytes.count)
            #expect(read.head == Array(bytes.prefix(16)))
            let (got, stanzaHash) = read.bytesAndStanzaHash
            #expect(got == bytes)
            let hint = try #require(stanzaHash)
            let parsed = try Bundle.parse(bytes)
            #expect(hint.hash == parsed.stanzaHash)
            #expect(try Bundle.parse(got, stanzaHashOfTheseBytes: hint).seenDigest == parsed.seenDigest)
        }
    }

    /// A file that has more bytes than the buffer (it grew since its size was taken) fills it and stops there: the
    /// caller sees `count == capacity` and reads the rest itself.
    @Test func aFullBufferStopsTheRead() throws {
        let bytes = try Self.bundle(pq: 1)
        let read = try #require(try FollowedRead.read(capacity: 100, using: Source(bytes, pieces: [64]).read))
        #expect(read.count == 100)
        #expect(read.bytesAndStanzaHash.bytes == Array(bytes.prefix(100)))
        #expect(read.bytesAndStanzaHash.stanzaHash == nil)
    }

    @Test func otherBytesHaveNoStanzaHash() throws {
        let text = Array("meeting notes, not a bundle at all\n".utf8)
        let read = try #require(try FollowedRead.read(capacity: 4_096, using: Source(text, pieces: [5]).read))
        #expect(read.bytesAndStanzaHash.bytes == text)
        #expect(read.bytesAndStanzaHash.stanzaHash == nil)
        #expect(read.head == Array(text.prefix(16)))
        let empty = try #require(try FollowedRead.read(capacity: 10, using: Source([], pieces: [5]).read))
        #expect(empty.count == 0 && empty.bytesAndStanzaHash.bytes.isEmpty)
    }

    /// A read that fails is thrown, and its hashing thread ends: a hundred failed reads leave no hundred threads behind
    /// (other tests run in this process too, so the count is compared with room to spare).
    @Test func aFailedReadIsThrownAndItsThreadEnds() throws {
        let bytes = try Self.bundle(pq: 1)
        let before = try Self.threads()
        for _ in 0..<100 {
            #expect(throws: POSIXError.self) {
                _ = try FollowedRead.read(capacity: bytes.count + 1, chunk: 256, using: Source(bytes, pieces: [256], failAt: 1_024).read)
            }
        }
        var after = try Self.threads()
        for _ in 0..<100 where after >= before + 50 {
            usleep(20_000)
            after = try Self.threads()
        }
        #expect(after < before + 50, "threads: \(before) before, \(after) after")
    }

    /// This process's thread count (Linux).
    static func threads() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Threads:") })
        return try #require(Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)))
    }

    /// Reads at once from many threads, more than the cores: each has a thread of its own, so none waits for another.
    @Test(.timeLimit(.minutes(5))) func manyReadsAtOnceAllFinish() async throws {
        let bytes = try Self.bundle(pq: 2)
        let expected = try Bundle.parse(bytes).stanzaHash
        let matched = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 24) { _ in
            guard let read = try? FollowedRead.read(capacity: bytes.count + 1, chunk: 512, using: Source(bytes, pieces: [700]).read)
            else { return }
            if read.bytesAndStanzaHash.stanzaHash?.hash == expected, read.bytesAndStanzaHash.bytes == bytes {
                matched.add(1, ordering: .relaxed)
            }
        }
        #expect(matched.load(ordering: .relaxed) == 24)
    }
}
