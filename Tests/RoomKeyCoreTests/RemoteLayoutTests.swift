import Testing
@testable import RoomKeyCore

/// The git remote's file layout: every path roomkey writes parses back to what it names, and nothing else parses.
struct RemoteLayoutTests {
    static let room = "0123456789abcdef0123456789abcdef"
    static let sender = "fedcba9876543210fedcba9876543210"

    @Test func writtenPathsParseBack() {
        let r = Self.room, s = Self.sender
        #expect(RemoteLayout.commitPath(room: r, epoch: 7) == "rooms/\(r)/log/7.roomkey")
        #expect(RemoteLayout.parse(RemoteLayout.commitPath(room: r, epoch: 0)) == .init(room: r, epoch: 0, kind: .commit))
        #expect(RemoteLayout.parse(RemoteLayout.senderKeyPath(room: r, epoch: 3, sender: s, generation: "2"))
                == .init(room: r, epoch: 3, kind: .senderKey(sender: s, generation: "2")))
        #expect(RemoteLayout.parse(RemoteLayout.senderKeyPath(room: r, epoch: 3, sender: s, generation: "x0011223344556677"))
                == .init(room: r, epoch: 3, kind: .senderKey(sender: s, generation: "x0011223344556677")))
        #expect(RemoteLayout.parse(RemoteLayout.leavePath(room: r, member: s, epoch: 12)) == .init(room: r, epoch: 12, kind: .leaveRequest(member: s)))
        #expect(RemoteLayout.parse(RemoteLayout.resentPath(room: r, epoch: 4, sender: s, digest: "00112233445566ff"))
                == .init(room: r, epoch: 4, kind: .resent(sender: s, digest: "00112233445566ff")))
    }

    @Test(arguments: [
        "rooms/0123456789abcdef0123456789abcdef/log/07.roomkey",          // leading zero: two names for one epoch
        "rooms/0123456789abcdef0123456789abcdef/log/-1.roomkey",
        "rooms/0123456789abcdef0123456789abcdef/log/1.roomkey.tmp",
        "rooms/0123456789abcdef0123456789abcdef/log/99999999999999999999999.roomkey",
        "rooms/0123456789ABCDEF0123456789ABCDEF/log/1.roomkey",           // upper-case hex
        "rooms/0123456789abcdef/log/1.roomkey",                           // short id
        "rooms/0123456789abcdef0123456789abcdef/log/x/1.roomkey",
        "rooms/0123456789abcdef0123456789abcdef/keys/1/bob-1.roomkey",    // a name instead of an id
        "rooms/0123456789abcdef0123456789abcdef/keys/1/fedcba9876543210fedcba9876543210-x12.roomkey",
        "rooms/0123456789abcdef0123456789abcdef/leave/fedcba9876543210fedcba9876543210.roomkey",
        "rooms/0123456789abcdef0123456789abcdef/other/1.roomkey",
        "README.md", "rooms/../log/1.roomkey", "",
    ])
    func strayPathsAreIgnored(_ path: String) {
        #expect(RemoteLayout.parse(path) == nil)
    }

    @Test(arguments: [
        // (epochs on the tip, current epoch, retention, now, expected): epoch e ended at time 1000 * (e + 1)
        ([0, 1, 2, 3], 3, 500, 3_600, [0, 1, 2]),      // every past epoch ended long enough ago
        ([0, 1, 2, 3], 3, 500, 3_400, [0, 1]),         // epoch 2 ended at 3000: only 400 s ago
        ([0, 1, 2, 3], 3, 10_000, 3_600, []),          // nothing is old enough
        ([3], 3, 0, 99_999, []),                       // the current epoch is never deleted
        ([1, 5], 9, 0, 500, []),                       // a clock before the end keeps everything
    ] as [([UInt64], UInt64, UInt64, UInt64, [UInt64])])
    func expiredKeyEpochs(_ epochs: [UInt64], _ current: UInt64, _ retention: UInt64, _ now: UInt64, _ expected: [UInt64]) {
        #expect(RemoteLayout.expiredKeyEpochs(epochs, current: current, retention: retention, now: now) { 1000 * ($0 + 1) } == expected)
    }

    @Test func unknownEndTimeKeepsTheFolder() {
        #expect(RemoteLayout.expiredKeyEpochs([0, 1], current: 2, retention: 0, now: 10_000) { $0 == 0 ? 5 : nil } == [0])
    }
}
