/// The time rule of commits: a receiver refuses commit times it cannot believe.
public enum CommitClock {
    /// How far a commit may be ahead of the receiver's clock, or behind its predecessor, in seconds.
    public static let tolerance: UInt64 = 24 * 60 * 60
    /// No commit is older than this (2020-01-01T00:00:00Z): a zero or tiny time is a forgery or a broken clock.
    public static let earliest: UInt64 = 1_577_836_800

    /// Checks `commit.time` against the receiver's clock `now` and the predecessor's time, if there is one.
    public static func check(_ commit: Commit, previousTime: UInt64?, now: UInt64) throws(LogError) {
        let time = commit.time
        if time < earliest { throw .badTime(epoch: commit.epoch, time: time, reason: "before 2020") }
        if time > now, time - now > tolerance {
            throw .badTime(epoch: commit.epoch, time: time, reason: "more than 24 hours ahead of this clock (\(now))")
        }
        if let previousTime, time < previousTime, previousTime - time > tolerance {
            throw .badTime(epoch: commit.epoch, time: time, reason: "more than 24 hours before its predecessor (\(previousTime))")
        }
    }
}
