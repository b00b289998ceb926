#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import roomkey

/// The allocator settings and the core-dump limit the command line sets at start.
@Suite struct ProcessMemoryTests {
    #if canImport(Glibc) && (arch(x86_64) || arch(arm64))
    @Test func glibcTakesBothSettings() {
        #expect(ProcessMemory.tuneAllocator())
    }
    #endif

    @Test func theThresholdIsWithinGlibcsFixedRange() {
        // 64-bit glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2 (32 MiB).
        #expect(ProcessMemory.mmapThreshold <= 32 << 20)
        #expect(ProcessMemory.trimThreshold > ProcessMemory.mmapThreshold)
    }

    #if canImport(Glibc)
    /// (This test process then writes no core file either, which is harmless.)
    @Test func coreDumpsEndUpOff() {
        #expect(ProcessMemory.disableCoreDumps())
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == 0 && limit.rlim_max == 0)
    }
    #endif
}
