import Foundation
import Testing
@testable import RoomKeyCore

/// `receive`'s result line on standard output is cut as a line on standard error is (4,096 characters and a count of
/// the rest): a bundle sealed to 200 strangers made an error naming every one of them, printed whole (a hostile-input
/// review: 3.4 million characters on one line for a bundle of 100,000 stanzas).
@Suite struct ReceiveLongErrorCLITests {
    @Test func aResultLineQuotingThousandsOfIdsIsCut() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob"]).code == 0)
        try w.exchange(["alice", "bob"])
        let strangers = try (0..<200).map { i in
            let card = try IdentityCard(handle: "x\(i)", signer: try SigningKeyPair.generate(),
                                        sealingKey: try SealingKeyPair.generate().publicKey, xwingKey: nil, created: 1_790_000_000)
            return Member(card: card, admin: false)
        }
        let forged = try w.forge("bob") { room, me in room.state.roster.members.values.filter { $0.id != me } + strangers }
        let r = try w.rk("alice", ["receive", forged])
        #expect(r.code == 2, "\(r.code) \(r.stderr.prefix(200))")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("not members") })
        #expect(line.unicodeScalars.count < 4_200 && line.hasSuffix("characters not shown)"), "\(line.count)")
        let json = try w.rk("alice", ["receive", forged, "--json"])
        #expect(json.stdout.contains(strangers[199].id.hex), "JSON holds the whole error")
    }
}
