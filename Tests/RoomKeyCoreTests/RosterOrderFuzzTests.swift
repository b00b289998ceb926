import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// A roster's kept id order against a reference (its keys sorted): random inserts, removals, role changes, effects,
/// reads back (trusting the stored ids or not) and kept copies, and stored rows with unsorted or duplicate ids (from a
/// hostile review of the kept order).
struct RosterOrderFuzzTests {
    struct LCG { var s: UInt64; mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 33 } }

    static func reference(_ r: Roster) -> [UInt8] {
        var hasher = RosterHasher(count: r.members.count)
        for id in r.members.keys.sorted() {
            guard let m = r.members[id] else { continue }
            hasher.add(id, admin: m.admin, card: m.card.encoded[...])
        }
        return hasher.finish()
    }

    static func check(_ r: Roster, _ what: String) throws {
        let keys = r.members.keys.sorted()
        #expect(r.sortedIDs == keys, "\(what)")
        #expect(r.sorted.map(\.id) == keys, "\(what)")
        r.forgetEncoding()
        #expect(r.hash == reference(r), "\(what)")
        let enc = r.encoded
        #expect(try Roster.parse(enc).sortedIDs == keys, "\(what)")
        #expect(r.hash == reference(r), "\(what) cached")
        #expect(r.adminCount == r.members.values.filter(\.admin).count, "\(what)")
    }

    @Test func randomOperations() throws {
        let cards = try (0..<24).map { try makeTestCard(handle: "c\($0)") }
        var rng = LCG(s: 12345)
        for round in 0..<300 {
            var r = Roster()
            var copies: [Roster] = []
            for step in 0..<40 {
                let c = cards[Int(rng.next() % UInt64(cards.count))]
                switch rng.next() % 7 {
                case 0, 1: r.insert(Member(card: c, admin: rng.next() % 2 == 0))
                case 2: r.remove(c.id)
                case 3: r.setAdmin(c.id, rng.next() % 2 == 0)
                case 4: r = try Roster.parse(r.encoded, trustingStoredIDs: rng.next() % 2 == 0)
                case 5: copies.append(r)
                default:
                    let effects = [RosterEffect.insert(c, admin: false), .remove(c.id), .setAdmin(c.id, true)]
                    r.apply(effects[Int(rng.next() % 3)])
                }
                try Self.check(r, "round \(round) step \(step)")
            }
            for (i, c) in copies.enumerated() { try Self.check(c, "copy \(i) round \(round)") }
        }
    }

    /// Stored rows with unsorted or duplicate ids parse to the canonical order.
    @Test func unsortedAndDuplicateRows() throws {
        let cards = try (0..<6).map { try makeTestCard(handle: "d\($0)") }.sorted { $0.id < $1.id }
        for order in [[3, 1, 2], [0, 0, 1], [1, 2, 2, 0], [5, 4, 3, 2, 1, 0], [0, 1, 1]] {
            var w = ByteWriter()
            w.writeU8(1); w.writeU32(UInt32(order.count))
            for i in order { Roster.writeMember(cards[i].id, admin: false, card: cards[i].encoded[...], to: &w) }
            for trust in [false, true] {
                var r = try Roster.parse(w.bytes, trustingStoredIDs: trust)
                try Self.check(r, "\(order) \(trust)")
                r.insert(Member(card: cards[5], admin: true)); try Self.check(r, "\(order) +5")
                r.remove(cards[0].id); try Self.check(r, "\(order) -0")
                r.insert(Member(card: cards[0], admin: false)); try Self.check(r, "\(order) +0")
            }
        }
    }
}
