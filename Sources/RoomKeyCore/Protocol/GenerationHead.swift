/// The newest sender-key generation a keyring holds of one member in one epoch, and the rule of PROTOCOL §8
/// (Retention) for a key stored next to it: a key is superseded when a later generation of the same member in the
/// same epoch is stored. Keeping the head means a stored key is compared with one row, not with every earlier
/// generation (a member who rotated a thousand times made every later key cost a thousand).
public struct GenerationHead: Equatable, Sendable {
    /// The newest generation stored.
    public let generation: UInt32
    /// The key tags stored at that generation, first stored first: one, unless the member signed several keys of the
    /// same generation (none supersedes another), of which at most `maxTags` are listed.
    public let tags: [[UInt8]]
    /// The superseded keys of this member and epoch that still hold skipped message keys, superseded first first, at
    /// most `maxKept`.
    public let kept: [[UInt8]]

    /// The most keys of one generation a head lists. A further key of that generation is superseded as soon as it is
    /// stored (only a member who signs many keys of one generation makes one): what one member's keys cost a store
    /// stays bounded, and no key outlives retention.
    public static let maxTags = 64
    /// The most superseded keys of one member and epoch listed with the skipped message keys they hold (fewer when the
    /// head lists several keys: the two lists together hold at most `maxKept + 1`). When one more is superseded than
    /// the list holds, the key superseded longest ago leaves the list and keeps no skipped message keys from then on
    /// (it still opens messages at or after its chain's iteration until retention deletes it): a member who rotates
    /// without end, each key with a message far along its chain, costs a receiver a bounded store.
    public static let maxKept = 64

    /// A head of `generation` listing `tags` (at most the first `maxTags`) and `kept` (at most the last `maxKept`).
    public init(generation: UInt32, tags: [[UInt8]], kept: [[UInt8]] = []) {
        (self.generation, self.tags, self.kept) = (generation, Array(tags.prefix(Self.maxTags)), Array(kept.suffix(Self.maxKept)))
    }

    /// What storing a key of `generation` with tag `tag` does, given the head before it (nil when no key of this
    /// member and epoch is held): the head after it, the tags superseded now (the new key's own, when it is older than
    /// the head), and the superseded keys to trim now (to drop their skipped message keys), the oldest beyond `maxKept`.
    public static func settle(_ head: GenerationHead?, storing tag: [UInt8],
                              generation: UInt32) -> (head: GenerationHead, superseded: [[UInt8]], trimmed: [[UInt8]]) {
        guard let head else { return (GenerationHead(generation: generation, tags: [tag]), [], []) }
        if head.tags.contains(tag) || head.kept.contains(tag) { return (head, [], []) }
        let next: (generation: UInt32, tags: [[UInt8]]), superseded: [[UInt8]]
        if generation > head.generation {
            (next, superseded) = ((generation, [tag]), head.tags)
        } else if generation < head.generation || head.tags.count >= maxTags {
            (next, superseded) = ((head.generation, head.tags), [tag])
        } else {
            (next, superseded) = ((head.generation, head.tags + [tag]), [])
        }
        // The head's keys and the kept ones share one budget of `maxKept + 1` keys that keep 2,000 skipped message keys
        // each: a member who signs many keys of one generation fills the head's list and leaves that much less to keep.
        let kept = head.kept + superseded
        let room = max(0, maxKept + 1 - next.tags.count)
        let trimmed = Array(kept.prefix(max(0, kept.count - room)))
        return (GenerationHead(generation: next.generation, tags: next.tags, kept: Array(kept.suffix(room))), superseded, trimmed)
    }

    /// The head of keys held together and those among them that are superseded or to trim: the rule applied to
    /// each in turn, in the order of their tags (bytewise), for a keyring that held them before it kept heads.
    public static func settle(_ keys: [(tag: [UInt8], generation: UInt32)])
        -> (head: GenerationHead?, superseded: [[UInt8]], trimmed: [[UInt8]]) {
        var head: GenerationHead?
        var superseded: [[UInt8]] = [], trimmed: [[UInt8]] = []
        for key in keys.sorted(by: { $0.tag.lexicographicallyPrecedes($1.tag) }) {
            let step = settle(head, storing: key.tag, generation: key.generation)
            head = step.head
            superseded += step.superseded
            trimmed += step.trimmed
        }
        return (head, superseded, trimmed)
    }
}
