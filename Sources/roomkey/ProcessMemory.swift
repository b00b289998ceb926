#if canImport(Glibc)
import Glibc
#endif

/// How this short-lived process asks the C allocator for memory, and what it leaves behind if it crashes.
enum ProcessMemory {
    /// Buffers up to this size come from the heap and are reused once freed (glibc's largest fixed threshold on 64-bit
    /// systems, 32 MiB).
    static let mmapThreshold: Int32 = 32 << 20
    /// Freed memory at the top of the heap stays with the process up to this much.
    static let trimThreshold: Int32 = 512 << 20
    /// `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` in glibc's `<malloc.h>`, which Swift's Glibc module does not import.
    static let (trimOption, mmapOption): (Int32, Int32) = (-1, -3)

    /// A membership commit in a large room makes and frees several buffers of its roster's and its bundle's size
    /// (12 MB with X-Wing keys). By default glibc maps each one fresh and unmaps it when freed, so every page of every
    /// such buffer faults in and is zeroed again; kept in the heap, a freed buffer's pages serve the next one. The
    /// process exits within seconds. Key material is wiped by its own types before it is freed, but decrypted rows and
    /// messages are plain arrays that may stay in freed heap memory until exit, so `disableCoreDumps` runs first.
    /// Returns true when the allocator took both settings (64-bit glibc).
    @discardableResult
    static func keepLargeBuffers() -> Bool {
        #if canImport(Glibc) && (arch(x86_64) || arch(arm64))
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        // mallopt returns 1 when it accepts a setting, 0 when it refuses one (an unknown option or a value out of range).
        let mmap = mallopt(mmapOption, mmapThreshold) == 1
        let trim = mallopt(trimOption, trimThreshold) == 1
        return mmap && trim
        #else
        return false
        #endif
    }

    /// A crash writes no core file: it would hold this process's memory, decrypted rows and messages included (as
    /// gpg-agent and ssh-agent do). Returns true when the system took the limit.
    @discardableResult
    static func disableCoreDumps() -> Bool {
        #if canImport(Glibc)
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        return setrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0
        #else
        return false
        #endif
    }
}
