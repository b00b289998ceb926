import Testing
import RoomKeyCore

/// `SchemaUpgrade.decide`: what opening a keyring does about its schema, for every combination that matters.
struct SchemaUpgradeTests {
    struct Case: CustomStringConvertible {
        let name: String
        let applied: Int
        let prefix: Bool
        let sealed: Int?
        let digests: Bool
        var seen = false
        var counted = false
        var schema: String? = nil
        let expected: SchemaUpgrade
        var description: String { name }
    }

    static let known = 12

    static let cases: [Case] = [
        Case(name: "current and sealed", applied: 12, prefix: true, sealed: 12, digests: true, expected: .upToDate),
        Case(name: "older, sealed by the roomkey that wrote it", applied: 11, prefix: true, sealed: 11, digests: true,
             expected: .verifyThenMigrate),
        Case(name: "just after the digest came", applied: 6, prefix: true, sealed: 6, digests: true, expected: .verifyThenMigrate),
        Case(name: "roomkey 0.1.0 (v1 to v4, no counter)", applied: 4, prefix: true, sealed: nil, digests: false,
             expected: .firstDigest),
        Case(name: "roomkey 0.1.0, but this machine's state file counted its writes", applied: 4, prefix: true, sealed: nil,
             digests: false, counted: true,
             expected: .refuse("its integrity digest is missing, but this machine has counted later writes of it")),
        Case(name: "0.1.0 migrated to v5 by a roomkey that ended before writing", applied: 5, prefix: true, sealed: nil,
             digests: false, expected: .firstDigest),
        Case(name: "0.1.0 migrated to the last migration by a roomkey that ended before writing", applied: 12, prefix: true,
             sealed: nil, digests: false, expected: .firstDigest),
        Case(name: "v2 without digests: never an audit log", applied: 2, prefix: true, sealed: nil, digests: false,
             expected: .refuse("its integrity digest is missing")),
        Case(name: "schema changed", applied: 12, prefix: true, sealed: 12, digests: true, schema: "table seen_bundle",
             expected: .refuse("its schema was changed outside roomkey (table seen_bundle)")),
        Case(name: "schema changed in a 0.1.0 keyring", applied: 4, prefix: true, sealed: nil, digests: false, schema: "index x",
             expected: .refuse("its schema was changed outside roomkey (index x)")),
        Case(name: "list cut back outranks a changed schema", applied: 11, prefix: true, sealed: 12, digests: true, schema: "table t",
             expected: .refuse("its list of migrations was cut back (11 of 12)")),
        Case(name: "migrated by someone else after its last write", applied: 12, prefix: true, sealed: 10, digests: true,
             expected: .settleEarlierMigrations(sealed: 10)),
        Case(name: "migrated by someone else, and more to run", applied: 11, prefix: true, sealed: 9, digests: true,
             expected: .settleEarlierMigrations(sealed: 9)),
        Case(name: "list cut back", applied: 11, prefix: true, sealed: 12, digests: true,
             expected: .refuse("its list of migrations was cut back (11 of 12)")),
        Case(name: "a migration taken out of the middle", applied: 11, prefix: false, sealed: 12, digests: true,
             expected: .refuse("its list of migrations was cut back (11 of 12)")),
        Case(name: "a migration taken out of the middle, counter replaced to match", applied: 11, prefix: false, sealed: 11,
             digests: true, expected: .refuse("its list of migrations was changed outside roomkey")),
        Case(name: "counter row deleted from a current keyring that this roomkey wrote", applied: 12, prefix: true, sealed: nil,
             digests: false, seen: true,
             expected: .refuse("its integrity digest is missing, but its audit head was written by a later roomkey")),
        Case(name: "counter row deleted and the list cut back, on a machine that counted its writes", applied: 11, prefix: true,
             sealed: nil, digests: false, counted: true,
             expected: .refuse("its integrity digest is missing, but this machine has counted later writes of it")),
        Case(name: "counter row deleted and the list cut back to 0.1.0's, audit head from before the mark", applied: 4,
             prefix: true, sealed: nil, digests: false, expected: .firstDigest),
        Case(name: "counter row deleted and the list cut back to 0.1.0's, audit head marked", applied: 4, prefix: true,
             sealed: nil, digests: false, seen: true,
             expected: .refuse("its integrity digest is missing, but its audit head was written by a later roomkey")),
        Case(name: "marked audit head, current and sealed", applied: 12, prefix: true, sealed: 12, digests: true, seen: true,
             expected: .upToDate),
        Case(name: "marked audit head, older and sealed", applied: 10, prefix: true, sealed: 10, digests: true, seen: true,
             expected: .verifyThenMigrate),
        Case(name: "a counter that counts migrations but holds no digest", applied: 12, prefix: true, sealed: 12, digests: false,
             expected: .refuse("its integrity digest is missing")),
        Case(name: "digests without a migration count", applied: 12, prefix: true, sealed: nil, digests: true,
             expected: .refuse("its integrity digest does not say which migrations it covers")),
        Case(name: "digests counting fewer migrations than the digest's own", applied: 12, prefix: true, sealed: 5, digests: true,
             expected: .refuse("its integrity digest does not say which migrations it covers")),
    ]

    @Test(arguments: cases) func decides(_ c: Case) {
        let got = SchemaUpgrade.decide(applied: c.applied, known: Self.known, appliedArePrefix: c.prefix,
                                       sealedMigrations: c.sealed, hasDigests: c.digests, digestsSeen: c.seen,
                                       countSeen: c.counted, schemaDifference: c.schema)
        #expect(got == c.expected)
    }

    /// Nothing but a keyring that never had digests (whose audit head no digest-keeping roomkey wrote, and whose writes
    /// this machine never counted) is ever given digests computed from rows nobody checked, and a changed schema is
    /// always refused.
    @Test func onlyAFileFromBeforeTheDigestGetsItsFirstDigest() {
        for applied in 0...Self.known {
            for sealed in [nil] + (0...Self.known).map(Optional.some) {
                for digests in [false, true] {
                    for flags in 0..<16 {
                        let (prefix, seen, counted, changed) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 8 != 0)
                        let got = SchemaUpgrade.decide(applied: applied, known: Self.known, appliedArePrefix: prefix,
                                                       sealedMigrations: sealed, hasDigests: digests, digestsSeen: seen,
                                                       countSeen: counted, schemaDifference: changed ? "table t" : nil)
                        if got == .firstDigest {
                            #expect(applied >= SchemaUpgrade.releasedWithoutDigest && !digests && sealed == nil && prefix
                                    && !seen && !counted && !changed)
                        }
                        if changed, got != .refuse("its schema was changed outside roomkey (table t)") {
                            guard case .refuse = got else { Issue.record("a changed schema was not refused: \(got)"); continue }
                        }
                        if case let .settleEarlierMigrations(from) = got {
                            #expect(digests && prefix && !changed && from >= SchemaUpgrade.firstWithDigest && from < applied)
                        }
                        if got == .upToDate { #expect(applied == Self.known && sealed == applied && digests && prefix && !changed) }
                    }
                }
            }
        }
    }
}
