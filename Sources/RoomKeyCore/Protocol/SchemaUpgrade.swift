/// What opening a keyring does about its schema, decided from what the file lists and what its sealed write counter
/// says. A keyring's migrations, the check that its rows are still the ones its sealed digests account for, and the
/// digests' recomputation over the migrated rows happen in one transaction: a migration never runs over rows nobody
/// checked, and nothing but roomkey's own upgrade ever leaves a file migrated past its sealed record.
public enum SchemaUpgrade: Equatable, Sendable {
    /// Every migration ran and the sealed record counts them all: nothing to do.
    case upToDate
    /// Check every table against its sealed digests, then run the missing migrations and seal new digests.
    case verifyThenMigrate
    /// A keyring from before the row digest (roomkey 0.1.0's, perhaps migrated further without a write): check its
    /// audit log, migrate, and compute the first digests from its rows.
    case firstDigest
    /// An earlier roomkey ran the migrations after the first `sealed` and ended before its first write (a wrong
    /// passphrase, a kill), leaving rows its digests do not account for. The tables those migrations wrote are rebuilt
    /// or checked by each migration's own rule, every other table against its digest; then the rest as `verifyThenMigrate`.
    case settleEarlierMigrations(sealed: Int)
    /// The keyring was edited; the reason, one line ("keyring was edited: <reason>").
    case refuse(String)

    /// The number of the first migration whose keyrings seal a row digest (`v6-integrity`).
    public static let firstWithDigest = 6
    /// The migrations of roomkey 0.1.0, the only release whose keyrings have no digest (`v1-keyring` to `v4-audit`); a
    /// file with fewer never held an audit log.
    public static let releasedWithoutDigest = 4

    /// Decides from the file's migrations (`applied` of the `known` ones this roomkey has, and whether they are exactly
    /// its first `applied`), the sealed write counter (the migrations it counts, nil when none are recorded or there is
    /// no record, and whether it holds digests), and two signs that a roomkey with digests wrote the file before: its
    /// sealed audit head carries the mark (`digestsSeen`), or this machine's rollback state file knows its key
    /// (`countSeen`: 0.1.0 kept none). `schemaDifference` names where the file's schema differs from the one its
    /// migrations make (nil: it is exactly that). The caller has refused migrations this roomkey does not know.
    public static func decide(applied: Int, known: Int, appliedArePrefix: Bool, sealedMigrations: Int?, hasDigests: Bool,
                              digestsSeen: Bool, countSeen: Bool, schemaDifference: String? = nil) -> SchemaUpgrade {
        if let sealed = sealedMigrations, sealed > applied {
            return .refuse("its list of migrations was cut back (\(applied) of \(sealed))")
        }
        guard appliedArePrefix else { return .refuse("its list of migrations was changed outside roomkey") }
        // The digests cover values in column order, not the tables that hold them.
        if let schemaDifference { return .refuse("its schema was changed outside roomkey (\(schemaDifference))") }
        guard hasDigests else {
            // Only a keyring that never had digests may lack them: one of roomkey 0.1.0, perhaps migrated further by a
            // later roomkey that ended before its first write. What keeps a stripped keyring out is not its shape (any
            // shape can be made) but two things a strip cannot undo: the sealed audit head's mark, which every write
            // of a roomkey with digests adds, and this machine's count of the keyring's writes.
            guard applied >= releasedWithoutDigest, sealedMigrations == nil else { return .refuse("its integrity digest is missing") }
            if digestsSeen { return .refuse("its integrity digest is missing, but its audit head was written by a later roomkey") }
            if countSeen { return .refuse("its integrity digest is missing, but this machine has counted later writes of it") }
            return .firstDigest
        }
        guard let sealed = sealedMigrations, sealed >= firstWithDigest else {
            // Every roomkey that sealed digests also sealed how many migrations it had, at least the digest's own.
            return .refuse("its integrity digest does not say which migrations it covers")
        }
        if sealed < applied { return .settleEarlierMigrations(sealed: sealed) }
        return applied == known ? .upToDate : .verifyThenMigrate
    }
}
