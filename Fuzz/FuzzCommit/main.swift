// Fuzzes Commit.parse and the log rules on a parsed commit (RoomState.genesis, applying on a fixed state): any input
// gives a value or a thrown error; an accepted commit re-encodes to its bytes.
import RoomKeyCore

let alice = Person("alice")
let bob = Person("bob")
let room = try! RoomID(bytes: Array(seed("room").prefix(16)))
let genesisOps: [Operation] = [.create(name: "garden", creator: alice.card), .add(bob.card)]
let c0 = Commit(roomID: room, epoch: 0, previousHead: Commit.genesisHead, signer: alice.signing, time: 1_767_225_600,
                operations: genesisOps,
                rosterHash: try! RoomState.apply(genesisOps, to: Roster(), author: alice.id, genesis: true).hash)
let s0 = try! RoomState.genesis(c0)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let commit = try? Commit.parse(bytes) else { return 0 }
    require(commit.encoded == bytes, "encoded differs")
    var w = ByteWriter()
    w.writeU8(Commit.version)
    w.write(commit.roomID.bytes)
    w.writeU64(commit.epoch)
    w.write(commit.previousHead)
    w.write(commit.author.bytes)
    w.writeU64(commit.time)
    w.writeU32(UInt32(commit.operations.count))
    for op in commit.operations { op.write(to: &w) }
    w.write(commit.rosterHash)
    w.write(commit.signature)
    require(w.bytes == bytes, "commit does not re-encode to its bytes")
    require(try! Commit.parse(w.bytes) == commit, "re-parse differs")
    _ = commit.head
    _ = try? commit.verifySignature(alice.signing.publicKey)
    _ = try? RoomState.genesis(commit)
    _ = try? s0.applying(commit)
    _ = try? RoomState.apply(commit.operations, to: s0.roster, author: commit.author, genesis: false)
    _ = try? RoomState.apply(commit.operations, to: Roster(), author: commit.author, genesis: true)
    _ = try? CommitClock.check(commit, previousTime: 1_767_225_600, now: 1_767_300_000)
    return 0
}
