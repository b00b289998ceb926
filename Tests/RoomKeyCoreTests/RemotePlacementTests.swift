import Testing
@testable import RoomKeyCore

/// What a path on the remote names, a file found there must say (review "independent §9": a sender key copied under
/// another member's name, a re-sent bundle under a wrong digest and a leave request anywhere were all received, and
/// the copy at the right path became a duplicate).
struct RemotePlacementTests {
    /// Ids as bytes (what a header holds) and as hex (what a path holds).
    struct ID: Sendable {
        let bytes: [UInt8]
        var hex: String { Hex.encode(bytes) }
        init(_ byte: UInt8) { bytes = [UInt8](repeating: byte, count: 16) }
    }
    static let room = ID(0x11), other = ID(0x22), bob = ID(0xb0), carol = ID(0xc0)

    /// The first bytes of a bundle (version 1, or 2) of `room`, `epoch` and `sender`, then some payload.
    static func bundle(_ room: ID = room, epoch: UInt64 = 5, sender: ID = bob, version: UInt8 = 1) -> [UInt8] {
        var w = ByteWriter()
        w.write([0x52, 0x4B, 0x42, version])
        w.write(room.bytes)
        w.writeU64(epoch)
        w.write(sender.bytes)
        w.write([UInt8](repeating: 0xee, count: 60))
        return w.bytes
    }

    /// A leave request's bytes (signature made up: placement reads no signature).
    static func leave(_ room: ID = room, epoch: UInt64 = 5, member: ID = bob) -> [UInt8] {
        var w = ByteWriter()
        w.write(LeaveRequest.magic)
        w.write(room.bytes)
        w.writeU64(epoch)
        w.write(member.bytes)
        w.writeU64(1_800_000_000)
        w.write([UInt8](repeating: 0x5a, count: 64))
        return w.bytes
    }

    static func entry(_ path: String) -> RemoteLayout.Entry? { RemoteLayout.parse(path) }

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String, path: String, bytes: [UInt8], expected: RemotePlacement.Mismatch?
        var testDescription: String { name }
    }

    static var rows: [Row] {
        let r = room.hex, b = bob.hex, c = carol.hex
        let key = bundle(), keyV2 = bundle(version: 2)
        let d = RemotePlacement.digest(key)
        return [
            Row(name: "a commit at its epoch", path: RemoteLayout.commitPath(room: r, epoch: 5), bytes: key, expected: nil),
            Row(name: "a commit at another epoch", path: RemoteLayout.commitPath(room: r, epoch: 6), bytes: key, expected: .roomOrEpoch),
            Row(name: "a commit in another room", path: RemoteLayout.commitPath(room: other.hex, epoch: 5), bytes: key, expected: .roomOrEpoch),
            Row(name: "a key under its sender", path: RemoteLayout.senderKeyPath(room: r, epoch: 5, sender: b, generation: "0"), bytes: key,
                expected: nil),
            Row(name: "a version 2 key under its sender", path: RemoteLayout.senderKeyPath(room: r, epoch: 5, sender: b, generation: "3"),
                bytes: keyV2, expected: nil),
            Row(name: "a key under another member", path: RemoteLayout.senderKeyPath(room: r, epoch: 5, sender: c, generation: "0"), bytes: key,
                expected: .sender),
            Row(name: "a key named by its digest", path: RemoteLayout.senderKeyPath(room: r, epoch: 5, sender: b, generation: "x" + d),
                bytes: key, expected: nil),
            Row(name: "a key named by another digest", path: RemoteLayout.senderKeyPath(room: r, epoch: 5, sender: b, generation: "x0011223344556677"),
                bytes: key, expected: .digest),
            Row(name: "a re-sent bundle", path: RemoteLayout.resentPath(room: r, epoch: 5, sender: b, digest: d), bytes: key, expected: nil),
            Row(name: "a re-sent bundle under another digest", path: RemoteLayout.resentPath(room: r, epoch: 5, sender: b, digest: "0011223344556677"),
                bytes: key, expected: .digest),
            Row(name: "a re-sent bundle under another member", path: RemoteLayout.resentPath(room: r, epoch: 5, sender: c, digest: d), bytes: key,
                expected: .sender),
            Row(name: "a re-sent bundle of another epoch", path: RemoteLayout.resentPath(room: r, epoch: 4, sender: b, digest: d), bytes: key,
                expected: .roomOrEpoch),
            Row(name: "a bundle in leave/", path: RemoteLayout.leavePath(room: r, member: b, epoch: 5), bytes: key, expected: .kind),
            Row(name: "a leave request at its path", path: RemoteLayout.leavePath(room: r, member: b, epoch: 5), bytes: leave(), expected: nil),
            Row(name: "a leave request under another member", path: RemoteLayout.leavePath(room: r, member: c, epoch: 5), bytes: leave(),
                expected: .sender),
            Row(name: "a leave request at another epoch", path: RemoteLayout.leavePath(room: r, member: b, epoch: 6), bytes: leave(),
                expected: .roomOrEpoch),
            Row(name: "a leave request in another room", path: RemoteLayout.leavePath(room: other.hex, member: b, epoch: 5), bytes: leave(),
                expected: .roomOrEpoch),
            Row(name: "a leave request in log/", path: RemoteLayout.commitPath(room: r, epoch: 5), bytes: leave(), expected: .kind),
            Row(name: "a leave request in keys/", path: RemoteLayout.senderKeyPath(room: r, epoch: 5, sender: b, generation: "0"),
                bytes: leave(), expected: .kind),
            // Neither a bundle nor a leave request, or too short to name anything: receiving it says what it is.
            Row(name: "junk", path: RemoteLayout.commitPath(room: r, epoch: 5), bytes: Array("hello".utf8), expected: nil),
            Row(name: "a cut bundle header", path: RemoteLayout.commitPath(room: r, epoch: 6), bytes: Array(key.prefix(30)), expected: nil),
            Row(name: "a cut leave request in leave/", path: RemoteLayout.leavePath(room: r, member: c, epoch: 5), bytes: Array(leave().prefix(30)),
                expected: nil),
        ]
    }

    @Test(arguments: rows)
    func placement(_ row: Row) throws {
        let entry = try #require(Self.entry(row.path), "\(row.path) parses")
        #expect(RemotePlacement.mismatch(entry, bytes: row.bytes) == row.expected)
    }

    /// The digest is the first 8 bytes of BLAKE2b-256 of the whole file, as PROTOCOL §9.1 says.
    @Test func theDigestIsOfTheWholeFile() {
        let bytes = Self.bundle()
        #expect(RemotePlacement.digest(bytes) == Hex.encode(Array(BLAKE2b.hash([bytes]).prefix(8))))
        #expect(RemotePlacement.digest(bytes).utf8.count == 16)
        #expect(RemotePlacement.digest(bytes + [0]) != RemotePlacement.digest(bytes))
    }
}
