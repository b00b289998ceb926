import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("ConstantTime.equals")
struct CryptoConstantTimeTests {
    @Test("equal arrays are equal")
    func equal() {
        #expect(ConstantTime.equals([1, 2, 3, 4], [1, 2, 3, 4]))
        #expect(ConstantTime.equals(counting(64), counting(64)))
    }

    @Test("two empty arrays are equal")
    func bothEmpty() {
        #expect(ConstantTime.equals([], []))
    }

    @Test("a difference in any position makes them unequal", arguments: [0, 1, 31, 63])
    func different(index: Int) {
        #expect(!ConstantTime.equals(counting(64), flippingBit(counting(64), at: index)))
    }

    @Test("different lengths are unequal, including a prefix and an empty array")
    func differentLengths() {
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 3, 0]))
        #expect(!ConstantTime.equals([1, 2, 3, 0], [1, 2, 3]))
        #expect(!ConstantTime.equals([], [0]))
        #expect(!ConstantTime.equals([0], []))
    }

    @Test("the raw-buffer overload agrees with the array overload")
    func rawBuffers() {
        let a: [UInt8] = [5, 6, 7]
        let b: [UInt8] = [5, 6, 7]
        let c: [UInt8] = [5, 6, 8]
        let ab = a.withUnsafeBytes { x in b.withUnsafeBytes { y in ConstantTime.equals(x, y) } }
        let ac = a.withUnsafeBytes { x in c.withUnsafeBytes { y in ConstantTime.equals(x, y) } }
        let prefix = a.withUnsafeBytes { x in ConstantTime.equals(UnsafeRawBufferPointer(rebasing: x[0..<2]), x) }
        #expect(ab)
        #expect(!ac)
        #expect(!prefix)
    }
}
