import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("SecretBytes")
struct CryptoSecretBytesTests {
    @Test("init(zeroed:) holds count zero bytes")
    func zeroed() {
        let s = SecretBytes(zeroed: 40)
        #expect(s.count == 40)
        #expect(bytesOf(s) == [UInt8](repeating: 0, count: 40))
    }

    @Test("an empty buffer has count 0 and compares equal to another empty buffer")
    func empty() {
        let a = SecretBytes(zeroed: 0)
        let b = makeSecret([])
        #expect(a.count == 0)
        #expect(bytesOf(a).isEmpty)
        expectConstantTimeEquals(a, b, true)
    }

    @Test("init(copying:) copies the bytes and is independent of the source afterwards")
    func copying() {
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 5, alignment: 1)
        defer { source.deallocate() }
        source.copyBytes(from: [1, 2, 3, 4, 5] as [UInt8])
        let s = SecretBytes(copying: UnsafeRawBufferPointer(source))
        source[0] = 99
        #expect(s.count == 5)
        #expect(bytesOf(s) == [1, 2, 3, 4, 5])
    }

    @Test("init(consuming:) takes the bytes and leaves the source array empty")
    func consumingEmptiesSource() {
        var source: [UInt8] = counting(32, from: 7)
        let expected = source
        let s = SecretBytes(consuming: &source)
        #expect(source.isEmpty)
        #expect(s.count == 32)
        #expect(bytesOf(s) == expected)
    }

    @Test("init(consuming:) on an array that shares storage leaves the other array intact")
    func consumingSharedStorage() {
        // The wipe itself happens on storage that is freed right after (the array becomes []),
        // so Swift cannot observe it safely; what can be checked is that the in-place wipe goes
        // through copy-on-write and never reaches an array that shared the same storage.
        let original: [UInt8] = [9, 8, 7, 6]
        var shared = original
        let s = SecretBytes(consuming: &shared)
        #expect(shared.isEmpty)
        #expect(bytesOf(s) == [9, 8, 7, 6])
        #expect(original == [9, 8, 7, 6])
    }

    @Test("init(consuming:) of an empty array gives an empty buffer")
    func consumingEmpty() {
        var source: [UInt8] = []
        let s = SecretBytes(consuming: &source)
        #expect(s.count == 0)
        #expect(source.isEmpty)
    }

    @Test("init(count:filling:) hands the body exactly count writable bytes")
    func filling() {
        var seen = -1
        let s = SecretBytes(count: 16) { buf in
            seen = buf.count
            for i in 0..<buf.count { buf[i] = UInt8(i * 3) }
        }
        #expect(seen == 16)
        #expect(bytesOf(s) == (0..<16).map { UInt8($0 * 3) })
    }

    struct FillError: Error, Equatable {}

    @Test("init(count:filling:) rethrows the body's error")
    func fillingThrows() {
        #expect(throws: FillError()) {
            _ = try SecretBytes(count: 8) { (_) throws(FillError) in throw FillError() }
        }
    }

    @Test("duplicate() is an equal copy in separate storage")
    func duplicate() {
        let a = makeSecret(counting(24))
        let b = a.duplicate()
        #expect(b.count == a.count)
        #expect(bytesOf(b) == bytesOf(a))
        expectConstantTimeEquals(a, b, true)
        let pa = a.withUnsafeBytes { $0.baseAddress }
        let pb = b.withUnsafeBytes { $0.baseAddress }
        #expect(pa != pb)
    }

    @Test("constantTimeEquals: same bytes are equal")
    func ctEqual() {
        expectConstantTimeEquals(makeSecret([1, 2, 3]), makeSecret([1, 2, 3]), true)
    }

    @Test("constantTimeEquals: a different byte anywhere is unequal", arguments: [0, 15, 31])
    func ctDifferent(index: Int) {
        let a = makeSecret(counting(32))
        let b = makeSecret(flippingBit(counting(32), at: index, bit: 7))
        expectConstantTimeEquals(a, b, false)
        expectConstantTimeEquals(b, a, false)
    }

    @Test("constantTimeEquals: different lengths are unequal, even when one is a prefix")
    func ctDifferentLengths() {
        let a = makeSecret([1, 2, 3])
        let b = makeSecret([1, 2, 3, 4])
        expectConstantTimeEquals(a, b, false)
        expectConstantTimeEquals(b, a, false)
        expectConstantTimeEquals(a, SecretBytes(zeroed: 0), false)
    }

    @Test("withUnsafeBytes exposes exactly count bytes and returns the body's result")
    func withUnsafeBytes() {
        let s = makeSecret([10, 20, 30])
        let sum = s.withUnsafeBytes { buf in buf.reduce(0) { $0 + Int($1) } }
        let n = s.withUnsafeBytes { $0.count }
        #expect(sum == 60)
        #expect(n == 3)
    }
}
