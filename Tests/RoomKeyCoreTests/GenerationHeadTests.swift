import Testing
@testable import RoomKeyCore

/// The rule of PROTOCOL §8 (Retention) for a stored generation, one table row each: which keys a newly stored key
/// supersedes, given the newest generation held of its member in its epoch.
struct GenerationHeadTests {
    static let a: [UInt8] = [0xA], b: [UInt8] = [0xB], c: [UInt8] = [0xC], d: [UInt8] = [0xD]
    /// As many superseded keys as a head keeps.
    static let keptFull: [[UInt8]] = (0..<GenerationHead.maxKept).map { [0xF0, UInt8($0)] }

    /// One row: the head before, the key stored, and the head and superseded tags after.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let before: GenerationHead?
        let tag: [UInt8]
        let generation: UInt32
        let after: GenerationHead
        let superseded: [[UInt8]]
        var trimmed: [[UInt8]] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "the first key is the head", before: nil, tag: a, generation: 7,
             after: GenerationHead(generation: 7, tags: [a]), superseded: []),
        Case(name: "a later generation supersedes the head", before: GenerationHead(generation: 1, tags: [a]), tag: b, generation: 2,
             after: GenerationHead(generation: 2, tags: [b], kept: [a]), superseded: [a]),
        Case(name: "a generation that arrives late is superseded at once", before: GenerationHead(generation: 5, tags: [a]), tag: b,
             generation: 3, after: GenerationHead(generation: 5, tags: [a], kept: [b]), superseded: [b]),
        Case(name: "the head stored again changes nothing", before: GenerationHead(generation: 5, tags: [a]), tag: a, generation: 5,
             after: GenerationHead(generation: 5, tags: [a]), superseded: []),
        Case(name: "a kept key stored again changes nothing", before: GenerationHead(generation: 5, tags: [a], kept: [b]), tag: b,
             generation: 3, after: GenerationHead(generation: 5, tags: [a], kept: [b]), superseded: []),
        Case(name: "a second key of the newest generation joins the head", before: GenerationHead(generation: 5, tags: [a]), tag: b,
             generation: 5, after: GenerationHead(generation: 5, tags: [a, b]), superseded: []),
        Case(name: "a later generation supersedes every key of the head", before: GenerationHead(generation: 5, tags: [a, b], kept: [c]),
             tag: d, generation: 6, after: GenerationHead(generation: 6, tags: [d], kept: [c, a, b]), superseded: [a, b]),
        Case(name: "the newest generation after a wrap is not special", before: GenerationHead(generation: .max, tags: [a]), tag: b,
             generation: 0, after: GenerationHead(generation: .max, tags: [a], kept: [b]), superseded: [b]),
        Case(name: "the key superseded longest ago is trimmed when one more is superseded than are kept",
             before: GenerationHead(generation: 200, tags: [a], kept: keptFull), tag: b, generation: 201,
             after: GenerationHead(generation: 201, tags: [b], kept: Array(keptFull.dropFirst()) + [a]), superseded: [a],
             trimmed: [keptFull[0]]),
        Case(name: "a late key trims the oldest kept one, not a newer one", before: GenerationHead(generation: 200, tags: [a], kept: keptFull),
             tag: b, generation: 1, after: GenerationHead(generation: 200, tags: [a], kept: Array(keptFull.dropFirst()) + [b]),
             superseded: [b], trimmed: [keptFull[0]]),
        Case(name: "a key beyond a full head's list leaves one kept key: the two lists share one budget",
             before: GenerationHead(generation: 5, tags: fullTags, kept: [c]), tag: d, generation: 5,
             after: GenerationHead(generation: 5, tags: fullTags, kept: [d]), superseded: [d], trimmed: [c]),
        Case(name: "a head's list that grows trims the kept key superseded longest ago",
             before: GenerationHead(generation: 5, tags: Array(fullTags.dropLast()), kept: [c, d]), tag: fullTags.last ?? a,
             generation: 5, after: GenerationHead(generation: 5, tags: fullTags, kept: [d]), superseded: [], trimmed: [c]),
    ]

    /// As many keys of one generation as a head lists.
    static let fullTags: [[UInt8]] = (0..<GenerationHead.maxTags).map { [0xE0, UInt8($0)] }

    @Test(arguments: cases) func rule(_ row: Case) {
        let (head, superseded, trimmed) = GenerationHead.settle(row.before, storing: row.tag, generation: row.generation)
        #expect(head == row.after)
        #expect(superseded == row.superseded)
        #expect(trimmed == row.trimmed)
    }

    /// A key of the head's generation beyond the bound is superseded at once (it did outlive retention, listed nowhere).
    @Test func keysOfOneGenerationBeyondTheBoundAreSupersededAtOnce() {
        var head = GenerationHead(generation: 1, tags: [[0]])
        var superseded: [[UInt8]] = []
        for i in 1...100 {
            let step = GenerationHead.settle(head, storing: [UInt8(i)], generation: 1)
            head = step.head
            superseded += step.superseded
        }
        #expect(head.tags.count == GenerationHead.maxTags)
        #expect(head.tags.first == [0])
        #expect(superseded == (GenerationHead.maxTags...100).map { [UInt8($0)] })
        // The next generation supersedes those listed; with those superseded at once, every earlier key is.
        #expect(GenerationHead.settle(head, storing: [0xFF], generation: 2).superseded.count == GenerationHead.maxTags)
    }

    @Test func keysHeldTogetherSettleAsIfStoredOneByOneInTagOrder() {
        let keys: [(tag: [UInt8], generation: UInt32)] = [(Self.b, 2), (Self.a, 1), ([0xD], 3), (Self.c, 3)]
        let (head, superseded, trimmed) = GenerationHead.settle(keys)
        // In the order of their tags, whatever order they are held in.
        #expect(head == GenerationHead(generation: 3, tags: [Self.c, [0xD]], kept: [Self.a, Self.b]))
        #expect(trimmed.isEmpty)
        #expect(Set(superseded) == [Self.a, Self.b])
        #expect(GenerationHead.settle([]).head == nil)
    }

    /// A member who rotates without end: the receiver lists its newest `maxKept` superseded keys and trims each older
    /// one as the next is superseded, in the order they were superseded.
    @Test func endlessRotationKeepsABoundedTail() {
        var head: GenerationHead?
        var trimmed: [[UInt8]] = []
        let tags = (0..<1_000).map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        for (g, tag) in tags.enumerated() {
            let step = GenerationHead.settle(head, storing: tag, generation: UInt32(g))
            head = step.head
            trimmed += step.trimmed
        }
        #expect(head?.tags == [tags[999]])
        #expect(head?.kept == Array(tags[(999 - GenerationHead.maxKept)..<999]))
        #expect(trimmed == Array(tags[0..<(999 - GenerationHead.maxKept)]))
    }
}
