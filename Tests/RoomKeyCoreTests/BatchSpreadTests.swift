import Synchronization
import Testing
@testable import RoomKeyCore

/// `BatchSeal.spread`: every item is done exactly once, however the count falls against the chunk and worker sizes.
@Suite struct BatchSpreadTests {
    @Test(arguments: [0, 1, 3, 63, 64, 65, 129, 1_000, 10_007])
    func everyItemIsDoneOnce(count: Int) {
        for (chunk, minimum) in [(1, 1), (4, 8), (16, 64), (1_000, 2)] {
            // Each item marks its own slot, and one counter counts the calls: every slot marked and as many calls as
            // items means each item was done exactly once.
            let calls = Atomic<Int>(0)
            var marks = [UInt8](repeating: 0, count: count)
            marks.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                BatchSeal.spread(count, chunk: chunk, minimumPerWorker: minimum) { i in
                    slots[i] = 1
                    calls.add(1, ordering: .relaxed)
                }
            }
            #expect(calls.load(ordering: .relaxed) == count, "count \(count), chunk \(chunk)")
            #expect(marks.allSatisfy { $0 == 1 }, "count \(count), chunk \(chunk)")
        }
    }
}
