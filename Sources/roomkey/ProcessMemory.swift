#if canImport(Glibc)
import Glibc
#endif

/// How this short-lived process asks the C allocator for memory.
enum ProcessMemory {
    /// Buffers up to this size come from the heap and are reused once freed (glibc's largest fixed threshold, 32 MiB).
    static let mmapThreshold: Int32 = 32 << 20
    /// Freed memory at the top of the heap stays with the process up to this much.
    static let trimThreshold: Int32 = 512 << 20
    /// `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` in glibc's `<malloc.h>`, which Swift's Glibc module does not import.
    static let (trimOption, mmapOption): (Int32, Int32) = (-1, -3)

    /// A membership commit in a large room makes and frees several buffers of its roster's and its bundle's size
    /// (12 MB with X-Wing keys). By default glibc maps each one fresh and unmaps it when freed, so every page of every
    /// such buffer faults in and is zeroed again; kept in the heap, a freed buffer's pages serve the next one. The
    /// process exits within seconds, so nothing is held for long. Secrets are wiped by their own types before they are
    /// freed, whichever way the allocator gets its memory.
    /// Returns true when the allocator took both settings.
    @discardableResult
    static func keepLargeBuffers() -> Bool {
        #if canImport(Glibc)
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        // mallopt returns 1 when it accepts a setting, 0 when it refuses one (an unknown option or a value out of range).
        return mallopt(mmapOption, mmapThreshold) == 1 && mallopt(trimOption, trimThreshold) == 1
        #else
        return false
        #endif
    }
}
