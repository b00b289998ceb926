import Foundation
import Testing
@testable import RoomKeyCore

/// The storage form of a roster summary: round trips, and edits that must be refused.
@Suite struct RosterSummaryStorageTests {
    static func summary(members: Int, classical: Int, admin: Bool) throws -> RosterSummary {
        var s = RosterSummary()
        let trusts = MemberTrust.allCases
        for i in 0..<members {
            let id = IdentityID(signingKey: try SigningPublicKey(bytes: [UInt8](repeating: UInt8(i % 251), count: 31) + [UInt8(i / 251)]))
            s.add(id, trust: trusts[i % trusts.count], classicalName: i < classical ? "m\(i) é" : nil)
        }
        s.isMember = members > 0
        s.isAdmin = admin
        return s
    }

    @Test(arguments: [(0, 0, false), (1, 0, true), (1, 1, false), (7, 3, true), (600, 600, false)])
    func roundTrips(members: Int, classical: Int, admin: Bool) throws {
        let s = try Self.summary(members: members, classical: classical, admin: admin)
        #expect(RosterSummary.decode(s.encoded()) == s)
    }

    /// Each edit of a good summary, and what it is.
    static let damaged: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
        ("empty", { _ in [] }),
        ("JSON (read by the keyring, not here)", { _ in Array("{}".utf8) }),
        ("unknown version", { [2] + $0.dropFirst() }),
        ("unknown flag", { var b = $0; b[5] |= 4; return b }),
        ("truncated", { Array($0.dropLast()) }),
        ("trailing byte", { $0 + [0] }),
        ("classical count beyond the bytes", { var b = $0; b[b.count - 1] = 0; return Array(b.prefix(7)) + [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF] }),
    ]

    @Test(arguments: damaged.indices)
    func damagedSummariesAreRefused(index: Int) throws {
        let good = try Self.summary(members: 3, classical: 2, admin: true).encoded()
        let (what, edit) = Self.damaged[index]
        #expect(RosterSummary.decode(edit(good)) == nil, "\(what)")
    }

    /// Summaries stored before the binary form are JSON, their ids in hex: they still read, and an id that is not 32
    /// lowercase hex digits is refused (the keyring then reports the row as damaged).
    @Test func jsonSummariesKeepTheirHexIDs() throws {
        let s = try Self.summary(members: 5, classical: 3, admin: false)
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(RosterSummary.self, from: json) == s)
        let text = String(decoding: json, as: UTF8.self)
        let id = s.classical[0].id.hex
        #expect(text.contains("\"\(id)\""))
        for bad in [id.uppercased(), String(id.dropLast()), "zz" + id.dropFirst(2)] {
            let edited = Data(text.replacingOccurrences(of: id, with: bad).utf8)
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(RosterSummary.self, from: edited) }
        }
    }

    /// The binary form keeps ids as 32 hex digits; any other id makes the summary unreadable.
    @Test func binaryIDsMustBeLowercaseHex() throws {
        let good = try Self.summary(members: 2, classical: 1, admin: false).encoded()
        let hex = Array(try Self.summary(members: 2, classical: 1, admin: false).classical[0].id.hex.utf8)
        guard let at = good.indices.first(where: { Array(good[$0..<min($0 + hex.count, good.count)]) == hex }) else {
            Issue.record("hex id not found in the storage form")
            return
        }
        var upper = good
        upper[at] = UInt8(ascii: "G")
        #expect(RosterSummary.decode(upper) == nil)
        #expect(RosterSummary.decode(good) != nil)
    }

    /// The classical count read from the header alone is the one a full decode lists; forms that are not binary
    /// summaries, or stop before the count, give none.
    @Test(arguments: [(0, 0, false), (1, 0, true), (1, 1, false), (7, 3, true), (600, 600, false)])
    func theClassicalCountIsReadFromTheHeader(members: Int, classical: Int, admin: Bool) throws {
        let encoded = try Self.summary(members: members, classical: classical, admin: admin).encoded()
        #expect(RosterSummary.classicalCount(encoded) == RosterSummary.decode(encoded)?.classical.count)
        #expect(RosterSummary.classicalCount(encoded) == classical)
        let trustClasses = Int(encoded[6])
        var header = 7
        for _ in 0..<trustClasses { header += 1 + Int(encoded[header]) + 4 }
        #expect(RosterSummary.classicalCount(Array(encoded.prefix(header + 3))) == nil, "cut inside the count")
        #expect(RosterSummary.classicalCount(Array("{}".utf8)) == nil)
        #expect(RosterSummary.classicalCount([2] + encoded.dropFirst()) == nil)
        #expect(RosterSummary.classicalCount([]) == nil)
    }

    /// The classical members are kept as spliced storage-form entries: random additions, renames and removals, in and
    /// out of id order, list what a sorted model lists, and every state round-trips through the storage form.
    @Test func splicedEntriesFollowASortedModel() throws {
        var generator = SystemRandomNumberGenerator()
        let ids = try (0..<64).map { i in
            IdentityID(signingKey: try SigningPublicKey(bytes: [UInt8](repeating: UInt8(i), count: 31) + [7]))
        }
        var s = RosterSummary(), model: [IdentityID: String] = [:]
        for step in 0..<600 {
            let id = ids[Int.random(in: 0..<ids.count, using: &generator)]
            let name: String? = Bool.random(using: &generator) ? nil : "n\(step)" + String(repeating: "é", count: step % 5)
            s.setClassical(id, name: name)
            model[id] = name
            let expected = model.sorted { $0.key < $1.key }.map { RosterSummary.Classical(id: $0.key, name: $0.value) }
            #expect(s.classical == expected)
            #expect(s.classicalIDs == expected.map(\.id))
            #expect(s.classicalCount == expected.count)
            #expect(RosterSummary.decode(s.encoded()) == s)
        }
    }

    /// Entries out of id order, or an id listed twice, make a binary summary unreadable (edits keep them in order).
    @Test func entriesOutOfOrderAreRefused() throws {
        let s = try Self.summary(members: 3, classical: 3, admin: false)
        let good = s.encoded()
        let entries = s.classical.map { entry -> [UInt8] in
            let name = Array(entry.name.utf8)
            return [32] + Array(entry.id.hex.utf8) + [UInt8(name.count >> 8), UInt8(name.count & 0xFF)] + name
        }
        let head = Array(good.prefix(good.count - entries.joined().count))
        #expect(RosterSummary.decode(head + entries.joined()) == s)
        #expect(RosterSummary.decode(head + [entries[1], entries[0], entries[2]].joined()) == nil)
        #expect(RosterSummary.decode(head + [entries[0], entries[0], entries[2]].joined()) == nil)
    }
}
