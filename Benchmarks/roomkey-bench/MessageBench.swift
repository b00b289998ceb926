// The `messages` benchmark (DESIGN §7): encrypt and decrypt of many 1 KiB room messages in one process, next to
// libsodium's own Ed25519 sign + XChaCha20-Poly1305 (encrypt) and verify + XChaCha20-Poly1305 (decrypt) on the
// same plaintexts, in the same run.
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
        // The two sides alternate which runs first, so neither always gets the warmer caches or the quieter moment.
        for round in 0..<rounds {
            for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                if side == 0 {
                    let s = try baseline(plaintexts)
                    sodium.encrypt.append(s.encrypt)
                    sodium.decrypt.append(s.decrypt)
                } else {
                    let o = try protocolInMemory(plaintexts, random: random)
                    ours.encrypt.append(o.encrypt)
                    ours.decrypt.append(o.decrypt)
                }
            }
        }
        let (oe, od, se, sd) = (median(ours.encrypt), median(ours.decrypt), median(sodium.encrypt), median(sodium.decrypt))
        print("")
        print("in memory (what encrypt/decrypt compute, without the keyring): parse, sender-key ratchet, XChaCha20-Poly1305, Ed25519")
        row("encrypt, roomkey", oe, count)
        row("encrypt, libsodium sign + XChaCha20-Poly1305", se, count)
        print(String(format: "  encrypt ratio: %.2f (target <= 1.5)", oe / se))
        row("decrypt, roomkey", od, count)
        row("decrypt, libsodium verify + XChaCha20-Poly1305", sd, count)
        print(String(format: "  decrypt ratio: %.2f (target <= 1.5)", od / sd))
        var samples: [String: Any] = ["count": count, "size": size, "encrypt": ours.encrypt, "decrypt": ours.decrypt,
                                      "sodium_encrypt": sodium.encrypt, "sodium_decrypt": sodium.decrypt]
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

    /// The protocol core as `encrypt`/`decrypt` run it: ratchet step, seal, sign; parse, verify, ratchet step, open.
    static func protocolInMemory(_ plaintexts: [[UInt8]], random: any RandomSource) throws -> (encrypt: Double, decrypt: Double) {
        let owner = IdentityID(signingKey: try SigningKeyPair.generate().publicKey)
        let own = try OwnSenderKey.generate(roomID: RoomID.random(using: random), owner: owner, epoch: 0, generation: 0, random: random)
        var decryptor = MessageDecryptor(key: own.shared)
        var encryptor = MessageEncryptor(key: own, random: random)
        var wire: [[UInt8]] = []
        wire.reserveCapacity(plaintexts.count)
        let e = try time { for p in plaintexts { wire.append(try encryptor.encrypt(p).bytes) } }
        var total = 0
        let d = try time {
            for bytes in wire {
                let plain = try decryptor.decrypt(try RoomMessage.parse(bytes))
                total += plain.count
            }
        }
        guard total == plaintexts.reduce(0, { $0 + $1.count }) else { throw CocoaError(.coderInvalidValue) }
        return (e, d)
    }

    /// libsodium alone, on the same wire layout: per message a header as roomkey writes it (magic and version, ids,
    /// iteration, body length), a fresh nonce, XChaCha20-Poly1305 with the header as associated data, and an Ed25519
    /// signature over header and box, all in one buffer; then, per message, the header fields decryption needs are
    /// checked (magic and version, body length against the message length), the signature verified and the box opened.
    static func baseline(_ plaintexts: [[UInt8]]) throws -> (encrypt: Double, decrypt: Double) {
        guard sodium_init() >= 0 else { throw CocoaError(.featureUnsupported) }
        var pk = [UInt8](repeating: 0, count: 32), sk = [UInt8](repeating: 0, count: 64), key = [UInt8](repeating: 0, count: 32)
        crypto_sign_keypair(&pk, &sk)
        randombytes_buf(&key, 32)
        var header = [UInt8](repeating: 7, count: headerLength)
        header.replaceSubrange(0..<4, with: RoomMessage.magic)
        var wire: [[UInt8]] = []
        wire.reserveCapacity(plaintexts.count)
        let e = time {
            for p in plaintexts {
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
                wire.append(out)
            }
        }
        var failures = 0
        let d = time {
            for m in wire {
                // What decryption reads from the header: magic and version, then the body length, which must account
                // for every byte (the ids and iteration are compared as roomkey compares them, 16 bytes at a time).
                guard m.count >= headerLength + 40 + 64, m[0] == 0x52, m[1] == 0x4B, m[2] == 0x4D, m[3] == 0x01 else { failures += 1; continue }
                let boxLength = m[(headerLength - 4)..<headerLength].reduce(0) { $0 << 8 | Int($1) }
                guard boxLength >= 40, m.count == headerLength + boxLength + 64, m[4..<20].elementsEqual(header[4..<20]),
                      m[28..<44].elementsEqual(header[28..<44]), m[44..<60].elementsEqual(header[44..<60]) else {
                    failures += 1
                    continue
                }
                var plain = [UInt8](repeating: 0, count: boxLength - 40)
                m.withUnsafeBufferPointer { b in
                    guard let base = b.baseAddress else { return }
                    if crypto_sign_verify_detached(base + headerLength + boxLength, base, UInt64(headerLength + boxLength), pk) != 0 {
                        failures += 1
                        return
                    }
                    var mlen: UInt64 = 0
                    if crypto_aead_xchacha20poly1305_ietf_decrypt(&plain, &mlen, nil, base + headerLength + 24, UInt64(boxLength - 24),
                                                                  base, UInt64(headerLength), base + headerLength, key) != 0 {
                        failures += 1
                    }
                }
            }
        }
        guard failures == 0 else { throw CocoaError(.coderInvalidValue) }
        return (e, d)
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
