/// The message keys a receiver keeps for iterations it skipped over, in ascending iteration order.
///
/// Stored flat in one wiped buffer: per entry `iteration (u32 BE) || message key (32)`. Every change makes a new
/// store (the old one is wiped when it ends), so a state is never half-updated.
public struct SkippedKeys: ~Copyable {
    /// Bytes per entry.
    public static let entryLength = 4 + SymmetricKey.length

    package let storage: SecretBytes

    /// How many keys are kept.
    public var count: Int { storage.count / Self.entryLength }

    /// An empty store.
    public init() { storage = SecretBytes(zeroed: 0) }

    /// Restores a store from its flat form, checking the layout: whole entries, strictly ascending iterations,
    /// each in `range`, at most `limit` of them.
    public init(flat: consuming SecretBytes, range: Range<UInt32>, limit: Int) throws(MessageError) {
        guard flat.count % Self.entryLength == 0, flat.count / Self.entryLength <= limit,
              Self.isAscending(flat, within: range) else { throw .corruptState }
        storage = flat
    }

    private static func isAscending(_ flat: borrowing SecretBytes, within range: Range<UInt32>) -> Bool {
        flat.withUnsafeBytes { p in
            var previous: UInt32? = nil
            for o in stride(from: 0, to: p.count, by: entryLength) {
                let iteration = UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3])
                guard range.contains(iteration), previous.map({ $0 < iteration }) ?? true else { return false }
                previous = iteration
            }
            return true
        }
    }

    private init(storage: consuming SecretBytes) { self.storage = storage }

    /// The iteration of entry `index`.
    public func iteration(at index: Int) -> UInt32 {
        storage.withUnsafeBytes { p in
            let o = index * Self.entryLength
            return UInt32(p[o]) << 24 | UInt32(p[o + 1]) << 16 | UInt32(p[o + 2]) << 8 | UInt32(p[o + 3])
        }
    }

    /// Every kept iteration, ascending (they are not secret).
    public var iterations: [UInt32] { (0..<count).map { iteration(at: $0) } }

    /// The entry holding `iteration`, found by binary search.
    public func index(of iteration: UInt32) -> Int? {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            let found = self.iteration(at: mid)
            if found == iteration { return mid }
            if found < iteration { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// A copy of the key of entry `index`.
    package func key(at index: Int) throws(MessageError) -> SymmetricKey {
        let start = index * Self.entryLength + 4
        let bytes = storage.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[start..<(start + SymmetricKey.length)])) }
        do { return try SymmetricKey(bytes) } catch { throw .corruptState }
    }

    /// A new store without entry `index`.
    package func removing(at index: Int) -> SkippedKeys {
        let cut = index * Self.entryLength
        return SkippedKeys(storage: storage.withUnsafeBytes { old in
            SecretBytes(count: old.count - Self.entryLength) { out in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: old[0..<cut]))
                UnsafeMutableRawBufferPointer(rebasing: out[cut...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: old[(cut + Self.entryLength)...]))
            }
        })
    }

    /// A new store: the entries from `keepFrom` on, followed by `extra` (flat entries, ascending, all above them).
    package func keeping(from keepFrom: Int, appending extra: borrowing SecretBytes) -> SkippedKeys {
        let start = keepFrom * Self.entryLength
        return SkippedKeys(storage: storage.withUnsafeBytes { old in
            extra.withUnsafeBytes { add in
                SecretBytes(count: old.count - start + add.count) { out in
                    out.copyMemory(from: UnsafeRawBufferPointer(rebasing: old[start...]))
                    UnsafeMutableRawBufferPointer(rebasing: out[(old.count - start)...]).copyMemory(from: add)
                }
            }
        })
    }

    /// A copy of this store.
    package func duplicate() -> SkippedKeys { SkippedKeys(storage: storage.duplicate()) }
}
