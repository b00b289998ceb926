import Foundation
import Testing

/// A bundle's `-o` file is checked before the change and written after it: a file that appears at the name in between
/// is refused without --force, as `encrypt -o` and `backup -o` refuse it (a review: the bundle was renamed over it).
@Suite struct BundleOutputRaceCLITests {
    @Test func aFileThatAppearsBeforeTheWriteIsKeptWithoutForce() throws {
        let w = try RoomWorld.team(["bob"])
        let out = w.s.path("rotated.roomkey")
        let r = try w.rk("alice", ["room", "rotate", "team", "-o", out], stdin: nil)
        #expect(r.code == 0, "\(r)")
        let raced = w.s.path("raced.roomkey")
        let refused = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", raced],
                                      env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_APPEAR": raced])
        #expect(try String(contentsOfFile: raced, encoding: .utf8) == "appeared\n", "\(refused)")
        #expect(refused.stderr.contains(raced), "\(refused)")
        // The bundle is not lost: it waits in the outbox.
        let waiting = try w.rk("alice", ["outbox", "list", "--json"]).json()
        #expect("\(waiting)".contains(raced), "\(waiting)")

        // With --force it is replaced, as asked.
        let forced = w.s.path("forced.roomkey")
        let replaced = try w.s.roomkey("alice", ["room", "rotate", "team", "-o", forced, "--force"],
                                       env: ["ROOMKEY_OUTBOX": w.shared, "ROOMKEY_TEST_APPEAR": forced])
        #expect(replaced.code == 0, "\(replaced)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: forced)).prefix(3) == Data("RKB".utf8), "\(replaced)")
    }
}
