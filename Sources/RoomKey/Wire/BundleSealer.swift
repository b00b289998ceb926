import Dispatch
import Foundation
import Synchronization

/// Builds bundles: the content is signed once, the bundle key is sealed to every recipient in parallel.
public enum BundleSealer {
    static let signatureDomain = Array("roomkey/bundle-signature/v1".utf8) + [0]

    /// Seals `content` (see `BundleContent`) for `recipients`, signed by `signer` (the sender's identity key).
    public static func seal(roomID: RoomID, epoch: UInt64, signer: borrowing SigningKeyPair,
                            recipients: [(id: IdentityID, key: SealingPublicKey)], content: borrowing SecretBytes,
                            random: any RandomSource) throws(CryptoError) -> [UInt8] {
        let sender = IdentityID(signingKey: signer.publicKey)
        let header = Bundle.header(roomID: roomID, epoch: epoch, sender: sender)
        let bundleKey = SymmetricKey.random(using: random)
        let stanzas = try sealStanzas(recipients, key: bundleKey)
        let stanzaHash = BLAKE2b.hash([stanzas])
        let signature = try signedMessage(header: header, stanzaHash: stanzaHash, content: content) { signer.sign($0) }
        let plaintext = content.withUnsafeBytes { c in
            SecretBytes(count: c.count + signature.count) { out in
                out.copyMemory(from: c)
                UnsafeMutableRawBufferPointer(rebasing: out[c.count...]).copyBytes(from: signature)
            }
        }
        let payload = XChaCha20Poly1305.seal(plaintext, key: bundleKey, ad: Bundle.adDomain + header + stanzaHash, random: random)
        return header + stanzas + payload
    }

    /// Runs `body` on `domain || header || stanza hash || content`, the bytes the sender signs.
    static func signedMessage<R>(header: [UInt8], stanzaHash: [UInt8], content: borrowing SecretBytes,
                                 _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> R) throws(CryptoError) -> R {
        let prefix = signatureDomain + header + stanzaHash
        let message = content.withUnsafeBytes { c in
            SecretBytes(count: prefix.count + c.count) { out in
                out.copyBytes(from: prefix)
                UnsafeMutableRawBufferPointer(rebasing: out[prefix.count...]).copyMemory(from: c)
            }
        }
        return try message.withUnsafeBytes { (m) throws(CryptoError) in try body(m) }
    }

    /// `u32 count || (id || crypto_box_seal(key, recipient))*`, sealed on every core.
    static func sealStanzas(_ recipients: [(id: IdentityID, key: SealingPublicKey)], key: borrowing SymmetricKey) throws(CryptoError) -> [UInt8] {
        let n = recipients.count
        var out = [UInt8](repeating: 0, count: 4 + n * Bundle.stanzaLength)
        for i in 0..<4 { out[i] = UInt8(truncatingIfNeeded: UInt32(n) >> UInt32(24 - 8 * i)) }
        let failed = Atomic<Bool>(false)
        key.bytes.withUnsafeBytes { k in
            out.withUnsafeMutableBytes { buffer in
                nonisolated(unsafe) let base = buffer
                nonisolated(unsafe) let secret = k
                let workers = max(1, min(System.cores, n / 64))
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let range = (n * w / workers)..<(n * (w + 1) / workers)
                    for i in range {
                        let start = 4 + i * Bundle.stanzaLength
                        UnsafeMutableRawBufferPointer(rebasing: base[start..<(start + 16)]).copyBytes(from: recipients[i].id.bytes)
                        let slot = UnsafeMutableRawBufferPointer(rebasing: base[(start + 16)..<(start + Bundle.stanzaLength)])
                        do { try recipients[i].key.seal(secret, into: slot) } catch { failed.store(true, ordering: .relaxed) }
                    }
                }
            }
        }
        if failed.load(ordering: .relaxed) { throw .operationFailed("crypto_box_seal") }
        return out
    }
}

/// The machine's core count, for parallel sealing.
enum System {
    static let cores: Int = {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? Int(n) : 1
    }()
}
