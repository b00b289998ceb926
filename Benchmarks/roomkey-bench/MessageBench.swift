// The `messages` benchmark (DESIGN §7): encrypt and decrypt of many 1 KiB room messages in one process, next to
// libsodium's own Ed25519 sign + XChaCha20-Poly1305 (encrypt) and verify + XChaCha20-Poly1305 (decrypt) on the
// same plaintexts, in the same run, slice by slice (see `interleaved`).
import CSodium
import Foundation
import RoomKey
import RoomKeyCore

enum MessageBench {
    /// Header bytes the baseline authenticates and signs, as many as a roomkey message header.
    static let headerLength = RoomMessage.headerLength

    static func run(count: Int, size: Int, keyringCount: Int, rounds: Int) throws {
        let random = try SystemRandom()
        let plaintexts = (0..<count).map { _ in random.bytes(size) }
        print("roomkey-bench messages: \(count) messages of \(size) bytes, one process, median of \(rounds) rounds")
        var ours = (encrypt: [Double](), decrypt: [Double]()), sodium = (encrypt: [Double](), decrypt: [Double]())
        var ratchet: [Double] = []
        for _ in 0..<rounds {
            let r = try interleaved(plaintexts, random: random)
            ours.encrypt.append(r.ours.encrypt)
            ours.decrypt.append(r.ours.decrypt)
            sodium.encrypt.append(r.sodium.encrypt)
            sodium.decrypt.append(r.sodium.decrypt)
            ratchet.append(r.ratchet)
        }
        let (oe, od, se, sd) = (median(ours.encrypt), median(ours.decrypt), median(sodium.encrypt), median(sodium.decrypt))
        print("")
        print("in memory (what encrypt/decrypt compute, without the keyring): parse, sender-key ratchet, XChaCha20-Poly1305, Ed25519")
        row("encrypt, roomkey", oe, count)
        row("encrypt, libsodium sign + XChaCha20-Poly1305", se, count)
        print(String(format: "  encrypt ratio: %.2f (target <= 1.05)", oe / se))
        row("decrypt, roomkey", od, count)
        row("decrypt, libsodium verify + XChaCha20-Poly1305", sd, count)
        print(String(format: "  decrypt ratio: %.2f (target <= 1.0)", od / sd))
        row("the ratchet's two KDF steps alone, per message", median(ratchet), count)
        print(String(format: "  ratchet steps next to libsodium verify + XChaCha20-Poly1305: %.3f", median(ratchet) / sd))
        var samples: [String: Any] = ["count": count, "size": size, "encrypt": ours.encrypt, "decrypt": ours.decrypt,
                                      "sodium_encrypt": sodium.encrypt, "sodium_decrypt": sodium.decrypt, "ratchet": ratchet]
        if keyringCount > 0 {
            // One round per round above: what one message costs when it is one keyring transaction of its own.
            var through = (encrypt: [Double](), decrypt: [Double]())
            for _ in 0..<rounds {
                let k = try throughKeyring(Array(plaintexts.prefix(keyringCount)))
                through.encrypt.append(k.encrypt / Double(keyringCount))
                through.decrypt.append(k.decrypt / Double(keyringCount))
            }
            let (ke, kd) = (median(through.encrypt), median(through.decrypt))
            print("")
            print("through the keyring (temp folder, no passphrase, one SQLite transaction per message, as the commands run it,")
            print("without process start): \(keyringCount) messages, median of \(rounds) rounds")
            row("encrypt, Keyring.encrypt", ke * Double(keyringCount), keyringCount)
            row("decrypt, Keyring.decrypt", kd * Double(keyringCount), keyringCount)
            print(String(format: "  ratios to the libsodium loops above: encrypt %.1f, decrypt %.1f", ke / (se / Double(count)),
                         kd / (sd / Double(count))))
            samples["keyring_encrypt_per_message"] = through.encrypt
            samples["keyring_decrypt_per_message"] = through.decrypt
        }
        print(String(decoding: try JSONSerialization.data(withJSONObject: samples, options: [.sortedKeys]), as: UTF8.self))
    }

    static func row(_ label: String, _ seconds: Double, _ n: Int) {
        print(String(format: "  %@ %9.1f ms  (%.1f us/message)", label.padding(toLength: 50, withPad: " ", startingAt: 0),
                     seconds * 1000, seconds * 1e6 / Double(n)))
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Messages per slice: each side runs one slice, then the other side the same slice, the first side alternating from
    /// slice to slice, so both see the host in the same state (a shared machine's speed drifts within seconds, and whole
    /// loops one after the other moved the ratio by up to 0.3).
    static let slice = 250

    /// One round over every plaintext: encryption, then decryption, each timed slice by slice, summed per side.
    ///
    /// roomkey's side is the protocol core as `encrypt`/`decrypt` run it: ratchet step, seal, sign; parse, verify,
    /// ratchet step, open. The libsodium side uses the same wire layout: per message a header as roomkey writes it
    /// (magic and version, ids, iteration, body length), a fresh nonce, XChaCha20-Poly1305 with the header as
    /// associated data, and an Ed25519 signature over header and box, all in one buffer; then, per message, the header
    /// fields decryption needs are checked (magic and version, body length against the message length), the signature
    /// verified and the box opened.
    ///
    /// Beside the decryption slices, the same count of the ratchet's steps alone (`SenderChain.receiveStep` at the
    /// chain's own iteration: the message key and the next chain key, two `crypto_kdf_derive_from_key` calls, DESIGN §3),
    /// work a roomkey decrypt must do and the libsodium side has no counterpart for.
    static func interleaved(_ plaintexts: [[UInt8]], random: any RandomSource) throws
        -> (ours: (encrypt: Double, decrypt: Double), sodium: (encrypt: Double, decrypt: Double), ratchet: Double) {
        let owner = IdentityID(signingKey: try SigningKeyPair.generate().publicKey)
        let own = try OwnSenderKey.generate(roomID: RoomID.random(using: random), owner: owner, epoch: 0, generation: 0, random: random)
        var decryptor = MessageDecryptor(key: own.shared)
        var encryptor = MessageEncryptor(key: own, random: random)
        let sodium = try Baseline()
        var ourWire: [[UInt8]] = [], sodiumWire: [[UInt8]] = []
        ourWire.reserveCapacity(plaintexts.count)
        sodiumWire.reserveCapacity(plaintexts.count)
        var t = (oe: 0.0, od: 0.0, se: 0.0, sd: 0.0)
        let slices = stride(from: 0, to: plaintexts.count, by: slice).map { $0..<min($0 + slice, plaintexts.count) }
        for (k, range) in slices.enumerated() {
            for side in k % 2 == 0 ? [0, 1] : [1, 0] {
                if side == 0 {
                    t.oe += try time { for i in range { ourWire.append(try encryptor.encrypt(plaintexts[i]).bytes) } }
                } else {
                    t.se += time { for i in range { sodiumWire.append(sodium.seal(plaintexts[i])) } }
                }
            }
        }
        var total = 0, failures = 0, ratchet = 0.0
        var chain = SenderChain(chainKey: SymmetricKey.random(using: random), iteration: 0)
        for (k, range) in slices.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in range { chain = try chain.receiveStep(chain.iteration).nextChain() }
            ratchet += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for side in k % 2 == 0 ? [1, 0] : [0, 1] {
                if side == 0 {
                    t.od += try time {
                        for i in range { total += try decryptor.decrypt(try RoomMessage.parse(ourWire[i])).count }
                    }
                } else {
                    t.sd += time { for i in range where !sodium.open(sodiumWire[i]) { failures += 1 } }
                }
            }
        }
        guard total == plaintexts.reduce(0, { $0 + $1.count }), failures == 0, chain.iteration == UInt32(plaintexts.count) else {
            throw CocoaError(.coderInvalidValue)
        }
        return ((t.oe, t.od), (t.se, t.sd), ratchet)
    }

    /// libsodium alone (see `interleaved`): one signing key pair and one AEAD key for every message.
    struct Baseline {
        var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64), key = [UInt8](repeating: 0, count: 32)
        var header = [UInt8](repeating: 7, count: headerLength)

        init() throws {
            guard sodium_init() >= 0 else { throw CocoaError(.featureUnsupported) }
            crypto_sign_keypair(&pk, &sk)
            randombytes_buf(&key, 32)
            header.replaceSubrange(0..<4, with: RoomMessage.magic)
        }

        /// header || nonce || ciphertext || tag || signature.
        func seal(_ p: [UInt8]) -> [UInt8] {
            let boxLength = 24 + p.count + 16
            var out = [UInt8](repeating: 0, count: headerLength + boxLength + 64)
            out.withUnsafeMutableBufferPointer { o in
                guard let base = o.baseAddress else { return }
                base.update(from: header, count: headerLength)
                let length = UInt32(boxLength)
                for i in 0..<4 { base[headerLength - 4 + i] = UInt8(truncatingIfNeeded: length >> (24 - 8 * i)) }
                randombytes_buf(base + headerLength, 24)
                var clen: UInt64 = 0
                crypto_aead_xchacha20poly1305_ietf_encrypt(base + headerLength + 24, &clen, p, UInt64(p.count), base,
                                                           UInt64(headerLength), nil, base + headerLength, key)
                crypto_sign_detached(base + headerLength + boxLength, nil, base, UInt64(headerLength + boxLength), sk)
            }
            return out
        }

        /// True when the message checks and opens. What decryption reads from the header: magic and version, then the
        /// body length, which must account for every byte (the ids are compared as roomkey compares them).
        func open(_ m: [UInt8]) -> Bool {
            guard m.count >= headerLength + 40 + 64, m[0] == 0x52, m[1] == 0x4B, m[2] == 0x4D, m[3] == 0x01 else { return false }
            let boxLength = m[(headerLength - 4)..<headerLength].reduce(0) { $0 << 8 | Int($1) }
            guard boxLength >= 40, m.count == headerLength + boxLength + 64, m[4..<20].elementsEqual(header[4..<20]),
                  m[28..<44].elementsEqual(header[28..<44]), m[44..<60].elementsEqual(header[44..<60]) else { return false }
            var plain = [UInt8](repeating: 0, count: boxLength - 40)
            return m.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress,
                      crypto_sign_verify_detached(base + headerLength + boxLength, base, UInt64(headerLength + boxLength), pk) == 0 else {
                    return false
                }
                var mlen: UInt64 = 0
                return crypto_aead_xchacha20poly1305_ietf_decrypt(&plain, &mlen, nil, base + headerLength + 24, UInt64(boxLength - 24),
                                                                  base, UInt64(headerLength), base + headerLength, key) == 0
            }
        }
    }

    /// Two keyrings in a temp folder, one room; alice encrypts every plaintext, bob decrypts every message.
    static func throughKeyring(_ plaintexts: [[UInt8]]) throws -> (encrypt: Double, decrypt: Double) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let alice = try Keyring.create(path: dir.appendingPathComponent("alice.sqlite").path, handle: "alice", passphrase: nil,
                                       random: SystemRandom())
        let bob = try Keyring.create(path: dir.appendingPathComponent("bob.sqlite").path, handle: "bob", passphrase: nil, random: SystemRandom())
        _ = try alice.addContacts([try bob.identityCard()], as: "bob")
        _ = try bob.addContacts([try alice.identityCard()], as: "alice")
        var bundle: [UInt8] = []
        _ = try alice.createRoom(name: "bench", members: ["bob"]) { out in bundle = out.bytes; return "bundle" }
        _ = try bob.receive([ReceiveInput(path: "bundle", bytes: bundle)]) { _ in "reply" }
        _ = try alice.setRoomPolicy(room: "bench", retentionSeconds: nil, rotateMessages: UInt64(RoomPolicy.maxRotateMessages),
                                    rotateAfterSeconds: nil)
        var wire: [[UInt8]] = []
        let e = try time {
            for p in plaintexts {
                wire.append(try alice.encrypt(room: "bench", plaintext: p, deliverBundle: { _ in "" }) { _ in }.bytes)
            }
        }
        let d = try time { for bytes in wire { try bob.decrypt(try RoomMessage.parse(bytes)) { _, _ in } } }
        return (e, d)
    }
}
