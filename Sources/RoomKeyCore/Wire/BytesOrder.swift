import Foundation

/// Byte-wise order of byte strings (as `lexicographicallyPrecedes`, a shorter prefix first), with one `memcmp` per
/// comparison: sorting tens of thousands of row tags with the generic element-by-element comparison costs tens of
/// milliseconds.
public enum BytesOrder {
    /// True when `a` sorts before `b`.
    public static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let common = min(a.count, b.count)
        let c = common == 0 ? 0 : a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, common) } }
        return c != 0 ? c < 0 : a.count < b.count
    }
}
