import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// When sync may overwrite the file at a log lock path (`LockFileCheck`): only when it fails a check every receiver
/// makes the same way; a commit validly signed by an admin on the same previous head is kept even when this keyring
/// cannot apply it. The world of `BundleAcceptanceTests`: the lock is epoch 2 of "team" (alice admin; bob, carol
/// members), judged by carol.
struct LockFileCheckTests {
    typealias World = BundleAcceptanceTests.World
    typealias Built = BundleAcceptanceTests.Built

    /// How a row's file is made, and what carol expects of it.
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        /// The file; nil makes garbage bytes.
        let file: @Sendable (World) throws -> Built?
        /// The expected head at epoch 2 (nil: carol holds no commit there yet).
        var expected: @Sendable (World, Built?) -> [UInt8]? = { _, _ in nil }
        /// "replace", "keep" or "expected".
        let verdict: String
        /// The bundle names the judging keyring as its sender, which holds another bundle of its own for the path.
        var senderMadeAnother = false
        /// The judging keyring was restored from a backup and has not caught up with the remote since.
        var restored = false
        var testDescription: String { name }
    }

    static let day: UInt64 = 24 * 3600

    static let rows: [Row] = [
        Row(name: "garbage", file: { _ in nil }, verdict: "replace"),
        Row(name: "a bundle for another epoch", file: { w in
            try w.seal(w.alice, epoch: 1, to: [w.bob, w.carol], commits: [w.c1], key: false)
        }, verdict: "replace"),
        Row(name: "from a stranger, not openable here", file: { w in
            try w.seal(w.mallory, epoch: 2, to: [w.bob], commits: [w.addErin()], key: false)
        }, verdict: "replace"),
        Row(name: "from a plain member, not openable here (a commit removing this keyring)", file: { w in
            let c = w.commit(w.bob, on: w.s1, [.remove(w.carol.id)])
            return try w.seal(w.bob, epoch: 2, to: [w.alice], commits: [c], key: false)
        }, verdict: "replace"),
        Row(name: "from the admin, not openable here (a damaged or missing stanza)", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.erin], commits: [w.addErin()], key: false)
        }, verdict: "keep"),
        Row(name: "from the admin, listing this keyring, whose stanza here does not open (noise from a pusher)", file: { w in
            let built = try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()], key: false)
            guard let i = built.bundle.recipients.firstIndex(of: w.carol.id) else { throw CancellationError() }
            var bytes = built.bytes
            bytes[built.bundle.stanzaBytes.startIndex + built.bundle.sealedOffsets[i] + 40] ^= 0x01
            return Built(bytes: bytes, bundle: try Bundle.parse(bytes), commits: built.commits, key: built.key)
        }, verdict: "replace"),
        Row(name: "the judging keyring's own bundle, not openable here (a member's copy of the commit for a rewound remote)", file: { w in
            try w.seal(w.carol, epoch: 2, to: [w.alice, w.bob, w.erin], commits: [w.addErin()], key: false)
        }, verdict: "keep"),
        Row(name: "naming as sender the judging keyring, which made another bundle there (noise from a pusher)", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.erin], commits: [w.addErin()], key: false)
        }, verdict: "replace", senderMadeAnother: true),
        Row(name: "naming as sender the judging keyring, restored from a backup, which made another bundle since (its own commit from after the backup)", file: { w in
            try w.seal(w.carol, epoch: 2, to: [w.alice, w.bob, w.erin], commits: [w.addErin()], key: false)
        }, verdict: "keep", senderMadeAnother: true, restored: true),
        Row(name: "naming as sender another identity, judged by a restored keyring that made another bundle there", file: { w in
            try w.seal(w.mallory, epoch: 2, to: [w.bob], commits: [w.addErin()], key: false)
        }, verdict: "replace", senderMadeAnother: false, restored: true),
        Row(name: "a valid admin commit not applied here", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()], key: false)
        }, verdict: "keep"),
        Row(name: "a valid admin commit more than 24 h ahead of this clock", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: w.now + 3 * day)], key: false)
        }, verdict: "keep"),
        Row(name: "this keyring's own commit of that epoch", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()], key: false)
        }, expected: { _, built in built?.commits.last?.head }, verdict: "expected"),
        Row(name: "another valid admin commit than this keyring's (a fork)", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()], key: false)
        }, expected: { _, _ in Array(repeating: 7, count: 32) }, verdict: "keep"),
        Row(name: "a commit by a plain member", file: { w in
            let c = w.commit(w.bob, on: w.s1, [.add(w.erin.card)])
            return try w.seal(w.bob, epoch: 2, to: [w.alice, w.carol, w.erin], commits: [c], key: false)
        }, verdict: "replace"),
        Row(name: "a commit on another previous head", file: { w in
            let c = w.commit(w.alice, on: w.s1, [.add(w.erin.card)], previous: Array(repeating: 9, count: 32))
            return try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [c], key: false)
        }, verdict: "replace"),
        Row(name: "a commit dated before 2020", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin(time: 1_000)], key: false)
        }, verdict: "replace"),
        Row(name: "a bundle signed by another key than its sender's", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol, w.erin], commits: [w.addErin()], key: false, signedBy: w.mallory)
        }, verdict: "replace"),
        Row(name: "a commit not sealed to its roster", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol], commits: [w.addErin()], key: false)
        }, verdict: "replace"),
        Row(name: "a sender key and no commit", file: { w in
            try w.seal(w.alice, epoch: 2, to: [w.bob, w.carol])
        }, verdict: "replace"),
    ]

    @Test(arguments: rows)
    func judge(_ row: Row) throws {
        let w = try World()
        let built = try row.file(w)
        let verdict = Self.judge(w, built, expected: row.expected(w, built), senderMadeAnother: row.senderMadeAnother, restored: row.restored)
        let kind: String
        switch verdict {
        case .expected: kind = "expected"
        case let .replace(why): kind = "replace"; #expect(!why.isEmpty && !why.contains("\n"))
        case let .keep(why): kind = "keep"; #expect(!why.isEmpty && !why.contains("\n"))
        }
        #expect(kind == row.verdict, "\(row.name): \(verdict)")
    }

    /// Carol's verdict on `built` (garbage when nil) at epoch 2 on epoch 1.
    static func judge(_ w: World, _ built: Built?, expected: [UInt8]?, senderMadeAnother: Bool = false,
                      restored: Bool = false) -> LockFileCheck.Verdict {
        let base = LockFileCheck.Base.after(w.s1, time: w.c1.time)
        func run(_ found: LockFileCheck.Found, _ signed: (SigningPublicKey) -> Bool = { _ in false }) -> LockFileCheck.Verdict {
            // carol holds the key of a sealed-box stanza to her, whatever else she lost.
            let listed = built.flatMap { $0.bundle.stanza(for: w.carol.id)?.kind == .sealedBox } ?? false
            return LockFileCheck.judge(found, room: w.room, epoch: 2, base: base, expected: expected, now: w.now,
                                       senderMadeAnother: senderMadeAnother, restored: restored, receiver: w.carol.id, stanzaShowsForgery: listed, signed: signed)
        }
        guard let built else { return run(.unparsable("not a roomkey bundle")) }
        guard let content = try? BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing) else {
            return run(.sealed(built.bundle, "no stanza"))
        }
        return run(.opened(built.bundle, commits: content.commits)) { (try? content.verify(signer: $0)) != nil }
    }

    /// When a stanza for this keyring that does not open shows a forgery: a sealed box always; an X-Wing stanza only
    /// when it opened (the payload did not) or the roster holds this keyring's current X-Wing key.
    @Test(arguments: [
        (Bundle.StanzaKind.sealedBox, false, false, true),
        (.sealedBox, true, false, true),
        (.sealedBox, false, true, true),
        (.xwing, false, false, false),
        (.xwing, true, false, true),
        (.xwing, false, true, true),
        (.xwing, true, true, true),
    ])
    func stanzaShowsForgery(kind: Bundle.StanzaKind, opened: Bool, pinned: Bool, shows: Bool) {
        #expect(LockFileCheck.stanzaShowsForgery(kind: kind, stanzaOpened: opened, rosterHoldsCurrentKey: pinned) == shows)
    }

    @Test func genesis() throws {
        let w = try World()
        let other = World.commit(w.alice, room: w.room, on: nil, [.create(name: "team", creator: w.alice.card), .add(w.bob.card)],
                                 time: w.now - 60)
        let byBob = World.commit(w.bob, room: w.room, on: nil, [.create(name: "team", creator: w.bob.card), .add(w.carol.card)],
                                 time: w.now - 60)
        func verdict(_ commit: Commit, sender: BundleAcceptanceTests.Person, to: [BundleAcceptanceTests.Person]) throws -> LockFileCheck.Verdict {
            let built = try w.seal(sender, epoch: 0, to: to, commits: [commit], key: false)
            guard let content = try? BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing) else {
                return LockFileCheck.judge(.sealed(built.bundle, "no stanza"), room: w.room, epoch: 0, base: .genesis(creator: w.alice.id),
                                           expected: w.c0.head, now: w.now, signed: { _ in false })
            }
            return LockFileCheck.judge(.opened(built.bundle, commits: content.commits), room: w.room, epoch: 0,
                                       base: .genesis(creator: w.alice.id), expected: w.c0.head, now: w.now) {
                (try? content.verify(signer: $0)) != nil
            }
        }
        #expect(try verdict(w.c0, sender: w.alice, to: [w.bob, w.carol, w.dave]) == .expected)
        // The creator's second genesis is a fork of the room: kept.
        guard case .keep = try verdict(other, sender: w.alice, to: [w.bob]) else { Issue.record("a second genesis by the creator"); return }
        // Anyone can sign a genesis for a room id they saw: another creator's is replaced.
        guard case .replace = try verdict(byBob, sender: w.bob, to: [w.carol]) else { Issue.record("another creator's genesis"); return }
    }
}
