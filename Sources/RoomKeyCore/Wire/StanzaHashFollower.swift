/// The stanza hash of a bundle made while the bundle is still arriving: it is given the bytes read so far, again and again
/// as more arrive, walks the stanza list as far as whole stanzas have arrived, and hashes up to there. A large room's
/// stanza list (12 MB for 10,000 X-Wing stanzas) is then hashed on one core while the file is read on the other.
///
/// It decides nothing: `Bundle.parse` takes its result only when the list ends exactly where the parse's own walk ends,
/// so the hash covers the same bytes either way. On anything that is not a well-formed stanza list (another magic, an
/// unknown version or stanza kind, too many stanzas, bytes that stop early) it gives up and the parse hashes for itself.
package struct StanzaHashFollower: ~Copyable {
    private var hasher = BLAKE2b.Stream()
    private var version: UInt8 = 0
    /// Stanzas not walked yet; nil before the count has arrived.
    private var left: Int?
    /// Where the last whole stanza walked ends (the count's end before the first).
    private var walked = Bundle.headerLength
    /// How far the hash has gone.
    private var hashed = Bundle.headerLength
    private var failed = false

    /// A follower that has seen nothing yet.
    package init() {}

    /// Walks and hashes as far as `arrived` allows: every byte of the bundle that has arrived so far, from its start
    /// (each call's bytes begin with the previous call's, unchanged).
    package mutating func advance(_ arrived: UnsafeRawBufferPointer) {
        if failed { return }
        if left == nil {
            let countEnd = Bundle.headerLength + 4
            guard arrived.count >= countEnd else { return }
            guard arrived.starts(with: Bundle.magic.prefix(3)), arrived[3] == Bundle.magic[3] || arrived[3] == Bundle.magicV2[3],
                  let count = Self.bigEndianCount(arrived[Bundle.headerLength..<countEnd]), count <= Bundle.maxStanzas else {
                failed = true
                return
            }
            version = arrived[3]
            left = count
            walked = countEnd
        }
        guard var remaining = left else { return }
        while remaining > 0 {
            var kind = Bundle.StanzaKind.sealedBox
            if version != Bundle.magic[3] {
                guard walked + IdentityID.length < arrived.count else { break }
                guard let k = Bundle.StanzaKind(rawValue: arrived[walked + IdentityID.length]) else {
                    failed = true
                    return
                }
                kind = k
            }
            let length = Bundle.stanzaLength(version: version, kind: kind)
            guard walked + length <= arrived.count else { break }
            walked += length
            remaining -= 1
        }
        left = remaining
        if walked > hashed {
            hasher.update(UnsafeRawBufferPointer(rebasing: arrived[hashed..<walked]))
            hashed = walked
        }
    }

    /// The stanza hash and where the list ends, if the whole list arrived and was walked; nil otherwise.
    package consuming func finish() -> Bundle.StanzaHash? {
        guard !failed, left == 0 else { return nil }
        return Bundle.StanzaHash(end: walked, hash: hasher.finish())
    }

    private static func bigEndianCount(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard bytes.count == 4 else { return nil }
        return bytes.reduce(0) { $0 << 8 | Int($1) }
    }
}
