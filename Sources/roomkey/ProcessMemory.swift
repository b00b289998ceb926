#if canImport(Glibc)
import Glibc
#endif

/// How this short-lived process asks the C allocator for memory, and what it leaves behind if it crashes.
enum ProcessMemory {
    /// Buffers from this size up are mapped on their own and unmapped when freed (glibc's starting threshold, kept fixed).
    static let mmapThreshold: Int32 = 128 << 10
    /// Freed memory at the top of the heap stays with the process up to this much.
    static let trimThreshold: Int32 = 512 << 20
    /// `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` in glibc's `<malloc.h>`, which Swift's Glibc module does not import.
    static let (trimOption, mmapOption): (Int32, Int32) = (-1, -3)

    /// A command makes many small objects (a 50,000-member roster's cards) and several buffers of a roster's or a
    /// bundle's size (12 MB with X-Wing keys). The heap keeps what is freed at its top, so small objects are not given
    /// back and asked for again; a large buffer is mapped on its own and gone when freed, so it never leaves a hole that
    /// small objects then split (kept in the heap, the bundle's copies at the end of a 50,000-member create found no
    /// hole of their size and grew the heap by 36 MB: peak 153-171 MB, 133 MB mapped). Glibc's default would raise the
    /// mapping threshold to the size of each large buffer freed. The process exits within seconds. Key material is wiped
    /// by its own types before it is freed, but decrypted rows and messages are plain arrays that may stay in freed heap
    /// memory until exit, so `disableCoreDumps` runs first. Returns true when the allocator took both settings (64-bit
    /// glibc).
    @discardableResult
    static func tuneAllocator() -> Bool {
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
