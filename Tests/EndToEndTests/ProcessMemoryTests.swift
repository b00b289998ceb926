import Testing
@testable import roomkey

/// The allocator settings the command line makes at start.
@Suite struct ProcessMemoryTests {
    #if canImport(Glibc)
    @Test func glibcTakesBothSettings() {
        #expect(ProcessMemory.keepLargeBuffers())
    }
    #endif

    @Test func theThresholdIsWithinGlibcsFixedRange() {
        // glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit systems).
        #expect(ProcessMemory.mmapThreshold <= 32 << 20)
        #expect(ProcessMemory.trimThreshold > ProcessMemory.mmapThreshold)
    }
}
