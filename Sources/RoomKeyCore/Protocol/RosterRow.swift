/// How a keyring stores the roster of one epoch: whole (`01 ||` the roster encoding, every card), or as a replay: the
/// whole roster of an earlier epoch with the stored commits since applied to it. A commit in a room of 10,000 members
/// then stores what it changed instead of every card again (14 MB with X-Wing cards).
public enum RosterRow: Equatable, Sendable {
    /// The whole roster (`Roster.encoded`).
    case whole
    /// A reference to the whole roster of an earlier epoch and the commits after it.
    case replay(RosterReplay)

    /// What a stored row is, from its first byte: version 1 is a whole roster (not parsed here), version 2 a replay
    /// (parsed whole, trailing bytes refused); any other version is refused.
    public static func kind(of plaintext: [UInt8]) throws(WireError) -> RosterRow {
        guard let version = plaintext.first else { throw .truncated(what: "roster row", needed: 1, available: 0) }
        switch version {
        case Roster.storageVersion: return .whole
        case RosterReplay.version: return .replay(try RosterReplay.parse(plaintext))
        default: throw .unknownVersion(what: "roster row", expected: RosterReplay.version, found: version)
        }
    }
}

/// A roster row that holds no cards: the roster of epoch `base + commits` is the whole roster stored for `base` with the
/// stored commits `base + 1 ... base + commits` applied, in order.
///
/// Encoding: `02 || u64 base || u64 base size || u32 commits || u64 commit bytes` (29 bytes), where the sizes (the
/// base row's sealed size and the commits' total encoded size) bound what reading it costs; 1 to 1,024 commits.
public struct RosterReplay: Equatable, Sendable {
    /// The row version of a replay.
    public static let version: UInt8 = 2
    /// The encoded length.
    public static let length = 29
    /// The most commits a row this reader accepts applies (this writer stops at `RosterRowPlan.maxCommits`): a row
    /// from elsewhere cannot make one read look up billions of commits.
    public static let maxCommits: UInt32 = 1_024

    /// The epoch whose whole roster it starts from.
    public let base: UInt64
    /// The stored size of the base row, in bytes.
    public let baseSize: UInt64
    /// How many commits are applied after `base` (so the row is for epoch `base + commits`).
    public let commits: UInt32
    /// The commits' total encoded size, in bytes.
    public let commitBytes: UInt64

    /// A replay of `commits` commits after `base`.
    public init(base: UInt64, baseSize: UInt64, commits: UInt32, commitBytes: UInt64) {
        (self.base, self.baseSize, self.commits, self.commitBytes) = (base, baseSize, commits, commitBytes)
    }

    /// The epoch this row is the roster of, nil if it would overflow.
    public var epoch: UInt64? {
        let (e, overflow) = base.addingReportingOverflow(UInt64(commits))
        return overflow ? nil : e
    }

    /// The row bytes.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.length)
        w.writeU8(Self.version)
        w.writeU64(base)
        w.writeU64(baseSize)
        w.writeU32(commits)
        w.writeU64(commitBytes)
        return w.bytes
    }

    /// Parses a replay row; at least one commit, and an epoch that does not overflow.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> RosterReplay {
        var r = ByteReader(bytes, what: "roster replay")
        try r.expectVersion(version)
        let row = RosterReplay(base: try r.readU64("base epoch"), baseSize: try r.readU64("base size"),
                               commits: try r.readU32("commit count"), commitBytes: try r.readU64("commit bytes"))
        try r.finish()
        guard row.commits > 0, row.commits <= maxCommits, row.epoch != nil else {
            throw .invalid(what: "roster replay", reason: "no commit, more than \(maxCommits), or an epoch past the last")
        }
        return row
    }
}

/// Which form the roster row of a newly stored commit takes: a pure rule, so that reading any row costs at most its
/// base's whole roster plus a bounded chain of commits.
public enum RosterRowPlan {
    /// What is stored for the epoch before.
    public enum Previous: Equatable, Sendable {
        /// No row (a room's first epoch, or one not held).
        case missing
        /// A whole roster, stored in `size` bytes.
        case whole(size: Int)
        /// A replay.
        case replay(RosterReplay)
    }

    /// The most commits one replay row applies on a base of up to 1 MiB (`commitLimit`).
    public static let maxCommits: UInt32 = 32
    /// Base bytes per further commit a replay may apply: fetching and opening one small commit costs about as much as
    /// reading this much of a whole roster, so a large base's chain may be longer for the same share of its read.
    public static let baseBytesPerCommit: UInt64 = 32 * 1024

    /// The most commits a replay of a base stored in `baseSize` bytes applies: `maxCommits`, more on a base past 1 MiB,
    /// never more than a reader accepts. A room of 10,000 members on version 2 cards (13 MB a whole row) then stores a
    /// whole row every 400 tiny commits instead of every 32 (a hostile review: 1,000 commits stored 400 MB of rosters).
    public static func commitLimit(baseSize: UInt64) -> UInt32 {
        UInt32(min(UInt64(RosterReplay.maxCommits), max(UInt64(maxCommits), baseSize / baseBytesPerCommit)))
    }
    /// The commit bytes a replay may always apply; above it, at most a quarter of its base's size.
    public static let minCommitBytes = 64 * 1024

    /// The commit bytes a replay of a base stored in `baseSize` bytes may apply.
    public static func commitByteLimit(baseSize: UInt64) -> UInt64 { max(UInt64(minCommitBytes), baseSize / 4) }

    /// The form of the row for `epoch`, whose commit is `commitSize` bytes. A row already stored for `epoch` is
    /// rewritten whole (a whole row that a replay names as its base stays whole); epoch 0, a missing or inconsistent row
    /// before, and a chain past `maxCommits` commits or past its byte limit give a whole row.
    public static func form(epoch: UInt64, previous: Previous, existing: Bool, commitSize: Int) -> RosterRow {
        guard epoch > 0, !existing, commitSize >= 0 else { return .whole }
        let size = UInt64(commitSize)
        switch previous {
        case .missing:
            return .whole
        case let .whole(baseSize):
            guard baseSize > 0, size <= commitByteLimit(baseSize: UInt64(baseSize)) else { return .whole }
            return .replay(RosterReplay(base: epoch - 1, baseSize: UInt64(baseSize), commits: 1, commitBytes: size))
        case let .replay(r):
            guard r.epoch == epoch - 1, r.commits < commitLimit(baseSize: r.baseSize) else { return .whole }
            let (bytes, overflow) = r.commitBytes.addingReportingOverflow(size)
            guard !overflow, bytes <= commitByteLimit(baseSize: r.baseSize) else { return .whole }
            return .replay(RosterReplay(base: r.base, baseSize: r.baseSize, commits: r.commits + 1, commitBytes: bytes))
        }
    }
}
