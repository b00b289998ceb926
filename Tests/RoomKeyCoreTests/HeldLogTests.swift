import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

/// A bundle that carries the whole log (every add does, for the new member) is checked against what the receiver
/// holds through the hash chain: what it reads does not grow with the room's history, and every carried commit that
/// differs from the accepted one is still found, with the same decision as when each was read and compared.
struct HeldLogTests {
    typealias World = BundleAcceptanceTests.World

    /// The standard room, then alice promoting and demoting bob in turn up to epoch `head`; its states by epoch.
    static func longLog(_ w: World, head: UInt64) throws -> (log: [Commit], states: [RoomState]) {
        var log = w.log
        var states = [w.s0, w.s1]
        while UInt64(log.count) <= head {
            let state = states[states.count - 1]
            let op: Operation = state.roster[w.bob.id]?.admin == true ? .demote(w.bob.id) : .promote(w.bob.id)
            let c = w.commit(w.alice, on: state, [op], time: w.now - 3600 + UInt64(log.count))
            log.append(c)
            states.append(try state.applying(c))
        }
        return (log, states)
    }

    /// Decides `built` for carol over `view`; returns the decision and how many commits it read.
    func decide(_ w: World, _ built: BundleAcceptanceTests.Built, _ view: InMemoryReceiver) throws -> (BundleDecision, Int) {
        let counting = CountingReceiver(view)
        let content = try BundleContent(opening: built.bundle, recipient: w.carol.id, keyPair: w.carol.sealing)
        let decision = try BundleAcceptance(view: counting, receiver: w.carol.id, now: w.now)
            .decide(content, digest: built.digest, earlierDigest: { built.earlierDigest }, size: built.bytes.count)
        return (decision, counting.count.commits)
    }

    /// An add at epoch 41 carrying the whole log reads no held commit; a late key carrying the log to epoch 20 reads one.
    @Test func aWholeLogIsCheckedWithoutReadingTheHeldCommits() throws {
        let w = try World()
        let (log, states) = try Self.longLog(w, head: 40)
        let view = try w.member(log)
        let add = w.commit(w.alice, on: states[40], [.add(w.erin.card)])
        let whole = try w.seal(w.alice, epoch: 41, to: [w.bob, w.carol, w.erin], commits: log + [add])
        let (decision, reads) = try decide(w, whole, view)
        BundleAcceptanceTests().check(decision, .apply(.init(epochs: [41], stateEpoch: 41)))
        #expect(reads == 0)

        let late = try w.seal(w.alice, epoch: 20, to: [w.bob, w.carol], commits: Array(log[0...20]))
        let (lateDecision, lateReads) = try decide(w, late, view)
        BundleAcceptanceTests().check(lateDecision, .apply(.init()))
        #expect(lateReads == 1)
    }

    /// Any one carried commit replaced by another of the same epoch (re-signed at another time, so it no longer chains
    /// or no longer is the accepted one) gives what comparing each commit gives: a stale conflict below the room's
    /// epoch, fork evidence at it. A carried commit the receiver does not hold is not read when the newest carried one
    /// is the accepted one; when that newest is not held either, the one-by-one comparison finds the unknown epoch.
    @Test func aChangedCommitAnywhereInTheCarriedLogIsFound() throws {
        let w = try World()
        let head: UInt64 = 12
        let (log, states) = try Self.longLog(w, head: head)
        let view = try w.member(log)
        for epoch in 1...head {
            let original = log[Int(epoch)]
            let other = w.commit(w.alice, on: states[Int(epoch) - 1], original.operations, time: original.time + 1)
            var carried = log
            carried[Int(epoch)] = other
            let recipients = w.rest(of: states[Int(head)].roster, but: w.alice)
            let built = try w.seal(w.alice, epoch: head, to: recipients, commits: carried)
            let (decision, _) = try decide(w, built, view)
            if epoch < head {
                BundleAcceptanceTests().check(decision, .rejected(.staleConflict(epoch: epoch, current: head)))
            } else {
                BundleAcceptanceTests().check(decision, .fork(ForkEvidence(epoch: head, ours: original.head, theirs: other.head)))
            }
        }
        // The links carry the proof: a carried old commit need not be read, so one missing here (from a view that
        // keeps less) does not stop a log whose newest carried commit is the accepted one.
        var missing = view
        missing.commits[.init(w.room, 5)] = nil
        let late = try w.seal(w.alice, epoch: 7, to: [w.bob, w.carol], commits: Array(log[0...7]))
        BundleAcceptanceTests().check(try decide(w, late, missing).0, .apply(.init()))
        // Without the newest, nothing stands in for it.
        missing.commits[.init(w.room, 7)] = nil
        BundleAcceptanceTests().check(try decide(w, late, missing).0, .rejected(.epochUnknown(5)))
    }
}
