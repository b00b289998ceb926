import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// The stored form of a sender key with its ratchet state (`sender_key` row format 2).
struct SenderKeyRecordTests {
    let room: RoomID

    init() throws { room = RoomID.random(using: try SystemRandom()) }

    func record(own: Bool, skipTo target: UInt32) throws -> SenderKeyRecord {
        let random = try SeededRandom(seed: [UInt8](repeating: 9, count: 32))
        let owner = IdentityID(signingKey: try SigningKeyPair.generate().publicKey)
        let key = try OwnSenderKey.generate(roomID: room, owner: owner, epoch: 4, generation: 2, random: random)
        let chain = try SenderChain(chainKey: key.shared.chainKey.duplicate(), iteration: 0).receiveStep(target).nextChain()
        let secret = own ? key.signing.exportSecretKey() : SecretBytes(zeroed: 0)
        let base = SenderKeyRecord(info: key.shared.info, storedAt: 1234, signingSecret: secret, chain: chain.duplicate())
        return base.with(chain)
    }

    @Test(arguments: [(false, UInt32(0)), (true, UInt32(0)), (false, UInt32(5)), (false, UInt32(3000))])
    func roundTrip(own: Bool, skipTo: UInt32) throws {
        let record = try self.record(own: own, skipTo: skipTo)
        let decoded = try SenderKeyRecord.decode(record.encoded(), roomID: room)
        #expect(decoded.info == record.info)
        #expect(decoded.info.iteration == skipTo + 1)
        #expect(decoded.storedAt == 1234)
        #expect(decoded.isOwn == own)
        #expect(decoded.chain.floor == record.chain.floor)
        #expect(decoded.chain.skipped.iterations == record.chain.skipped.iterations)
        #expect(bytesOf(decoded.chain.chainKey) == bytesOf(record.chain.chainKey))
        #expect(bytesOf(decoded.signingSecret) == bytesOf(record.signingSecret))
    }

    @Test func damagedRowsAreIntegrityFailures() throws {
        let record = try self.record(own: false, skipTo: 3)
        let plain = bytesOf(record.encoded())
        let failure = KeyringError.integrityFailure(table: "sender_key")
        for n in [0, 10, SenderKeyRecord.fixedLength, plain.count - 1] {
            #expect(throws: failure) { _ = try SenderKeyRecord.decode(makeSecret(Array(plain.prefix(n))), roomID: room) }
        }
        #expect(throws: failure) { _ = try SenderKeyRecord.decode(makeSecret(plain + [0]), roomID: room) }
        #expect(throws: failure) { _ = try SenderKeyRecord.decode(makeSecret(flippingBit(plain, at: 0)), roomID: room) }
        // A key id that does not match the signing key.
        #expect(throws: failure) { _ = try SenderKeyRecord.decode(makeSecret(flippingBit(plain, at: 1 + 16 + 8 + 4)), roomID: room) }
        // Kept iterations out of order.
        var swapped = plain
        let first = plain.count - 2 * SkippedKeys.entryLength
        swapped[first + 3] = 9
        #expect(throws: failure) { _ = try SenderKeyRecord.decode(makeSecret(swapped), roomID: room) }
    }
}
