import CSodium

/// XChaCha20-Poly1305 (IETF) authenticated encryption with a random 24-byte nonce.
///
/// The output of `seal` is `nonce || ciphertext || tag`, and `open` takes the same.
public enum XChaCha20Poly1305 {
    /// Nonce length (24).
    public static let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    /// Tag length (16).
    public static let tagLength = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    /// Bytes added to a plaintext by `seal`.
    public static let overhead = nonceLength + tagLength

    /// Encrypts `plaintext` with a fresh nonce from `random`, authenticating `ad` too.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, key: borrowing SymmetricKey, ad: [UInt8],
                            random: any RandomSource) -> [UInt8] {
        let nonce = random.bytes(nonceLength)
        return seal(plaintext, key: key, nonce: nonce, ad: ad)
    }

    /// Encrypts `plaintext` like `seal(_:key:ad:random:)`, returning `prefix || nonce || ciphertext || tag` in one buffer
    /// (a large plaintext is not copied again to put a version byte in front).
    public static func seal(_ plaintext: UnsafeRawBufferPointer, key: borrowing SymmetricKey, ad: [UInt8],
                            random: any RandomSource, prefix: [UInt8]) -> [UInt8] {
        seal(plaintext, key: key, nonce: random.bytes(nonceLength), ad: ad, prefix: prefix)
    }

    /// Encrypts with an explicit nonce (the caller guarantees it is never reused under the key).
    public static func seal(_ plaintext: UnsafeRawBufferPointer, key: borrowing SymmetricKey, nonce: [UInt8],
                            ad: [UInt8]) -> [UInt8] {
        seal(plaintext, key: key, nonce: nonce, ad: ad, prefix: [])
    }

    private static func seal(_ plaintext: UnsafeRawBufferPointer, key: borrowing SymmetricKey, nonce: [UInt8],
                             ad: [UInt8], prefix: [UInt8]) -> [UInt8] {
        let start = prefix.count
        return [UInt8](unsafeUninitializedCapacity: start + nonceLength + plaintext.count + tagLength) { buf, n in
            _ = buf.initialize(from: prefix)
            // `box` writes every remaining byte: nonce, ciphertext (plaintext.count) and tag.
            box(plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), count: plaintext.count, into: buf.baseAddress! + start,
                key: key, nonce: nonce, ad: ad)
            n = buf.count
        }
    }

    /// The one encryption step of the `seal` functions: writes `nonce || ciphertext || tag` of the `count` bytes at
    /// `plaintext` to `out` (`nonceLength + count + tagLength` bytes). The plaintext may already lie where the
    /// ciphertext goes (`out + nonceLength`): libsodium's AEADs encrypt in place.
    private static func box(_ plaintext: UnsafePointer<UInt8>?, count: Int, into out: UnsafeMutablePointer<UInt8>,
                            key: borrowing SymmetricKey, nonce: [UInt8], ad: [UInt8]) {
        Sodium.prepare()
        precondition(nonce.count == nonceLength, "nonce must be 24 bytes")
        out.initialize(from: nonce, count: nonceLength)
        let text = out + nonceLength
        key.bytes.withUnsafeBytes { k in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
                text, text + count, nil, plaintext ?? UnsafePointer(text), UInt64(count), ad, UInt64(ad.count), nil, nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Appends `nonce || ciphertext || tag` of the concatenation of `parts` to `out`, with a fresh nonce from `random`
    /// and `ad` authenticated too: the plaintext is copied once, into `out`, and encrypted there in place (a bundle's
    /// megabytes of content are neither gathered in a buffer of their own nor sealed into a second one).
    public static func seal(appending parts: [UnsafeRawBufferPointer], to out: inout [UInt8], key: borrowing SymmetricKey,
                            ad: [UInt8], random: any RandomSource) {
        let nonce = random.bytes(nonceLength)
        let total = parts.reduce(0) { $0 + $1.count }
        let start = out.count
        out.reserveCapacity(start + nonceLength + total + tagLength)
        out.append(contentsOf: repeatElement(0, count: nonceLength))
        for part in parts { out.append(contentsOf: part) }
        out.append(contentsOf: repeatElement(0, count: tagLength))
        out.withUnsafeMutableBufferPointer { buf in
            let at = buf.baseAddress! + start
            box(UnsafePointer(at + nonceLength), count: total, into: at, key: key, nonce: nonce, ad: ad)
        }
    }

    /// Encrypts `plaintext` with a fresh nonce, `prefix` (the header) as associated data, into one buffer:
    /// `prefix || nonce || ciphertext || tag || trailer`, where `trailer` (`trailerLength` bytes) is written by `fill`
    /// from every byte before it (a signature over them, say). Neither the ciphertext nor the header is copied again.
    public static func seal(_ plaintext: [UInt8], key: borrowing SymmetricKey, headerAsAD prefix: [UInt8], random: any RandomSource,
                            trailerLength: Int,
                            fill: (_ before: UnsafeRawBufferPointer, _ trailer: UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
        let start = prefix.count
        let sealedEnd = start + nonceLength + plaintext.count + tagLength
        let nonce = random.bytes(nonceLength)
        return [UInt8](unsafeUninitializedCapacity: sealedEnd + trailerLength) { buf, n in
            _ = buf.initialize(from: prefix)
            // `box` writes nonce, ciphertext and tag; `fill` writes the trailer: every byte is initialized.
            plaintext.withUnsafeBufferPointer { p in
                box(p.baseAddress, count: p.count, into: buf.baseAddress! + start, key: key, nonce: nonce, ad: prefix)
            }
            let raw = UnsafeMutableRawBufferPointer(buf)
            fill(UnsafeRawBufferPointer(rebasing: raw[0..<sealedEnd]), UnsafeMutableRawBufferPointer(rebasing: raw[sealedEnd...]))
            n = buf.count
        }
    }

    /// Encrypts a byte array.
    public static func seal(_ plaintext: [UInt8], key: borrowing SymmetricKey, ad: [UInt8],
                            random: any RandomSource) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, key: key, ad: ad, random: random) }
    }

    /// Encrypts secret bytes.
    public static func seal(_ plaintext: borrowing SecretBytes, key: borrowing SymmetricKey, ad: [UInt8],
                            random: any RandomSource) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, key: key, ad: ad, random: random) }
    }

    /// Decrypts and authenticates a box where it lies into a plain array (for large, non-secret contents such as rosters):
    /// no copy of the box is made first.
    public static func open(raw box: UnsafeRawBufferPointer, key: borrowing SymmetricKey, ad: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.prepare()
        guard box.count >= overhead, let base = box.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw .invalidLength(what: "XChaCha20-Poly1305 box", expected: overhead, found: box.count)
        }
        var rc: Int32 = -1
        let out = key.bytes.withUnsafeBytes { k in
            [UInt8](unsafeUninitializedCapacity: box.count - overhead) { buf, n in
                var mlen: UInt64 = 0
                rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
                    buf.baseAddress, &mlen, nil, base + nonceLength, UInt64(box.count - nonceLength),
                    ad, UInt64(ad.count), base, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                if rc != 0 { buf.initialize(repeating: 0) }
                n = buf.count
            }
        }
        if rc != 0 { throw .authenticationFailed }
        return out
    }

    /// Decrypts and authenticates `box` (nonce || ciphertext || tag) into secret bytes.
    public static func openSecret(_ box: [UInt8], key: borrowing SymmetricKey, ad: [UInt8]) throws(CryptoError) -> SecretBytes {
        try openSecret(box, from: 0, key: key, ad: ad)
    }

    /// Decrypts and authenticates the box that fills `box[offset...]` (after a version byte, say), without copying it out.
    public static func openSecret(_ box: [UInt8], from offset: Int, key: borrowing SymmetricKey, ad: [UInt8]) throws(CryptoError) -> SecretBytes {
        Sodium.prepare()
        let length = box.count - offset
        guard offset >= 0, length >= overhead else {
            throw .invalidLength(what: "XChaCha20-Poly1305 box", expected: overhead, found: max(length, 0))
        }
        var rc: Int32 = -1
        let out = SecretBytes(count: length - overhead) { (buf) -> Void in
            key.bytes.withUnsafeBytes { k in
                box.withUnsafeBufferPointer { whole in
                    let b = whole.baseAddress! + offset
                    var mlen: UInt64 = 0
                    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
                        buf.baseAddress?.assumingMemoryBound(to: UInt8.self), &mlen, nil,
                        b + nonceLength, UInt64(length - nonceLength),
                        ad, UInt64(ad.count), b, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        if rc != 0 { throw .authenticationFailed }
        return out
    }

    /// Decrypts and authenticates the box at `box` of `bytes`, with the bytes at `ad` as associated data, reading both
    /// in place (no copy of either).
    public static func openSecret(in bytes: [UInt8], box: Range<Int>, ad: Range<Int>,
                                  key: borrowing SymmetricKey) throws(CryptoError) -> SecretBytes {
        Sodium.prepare()
        guard box.count >= overhead, box.lowerBound >= 0, box.upperBound <= bytes.count, ad.lowerBound >= 0, ad.upperBound <= bytes.count else {
            throw .invalidLength(what: "XChaCha20-Poly1305 box", expected: overhead, found: box.count)
        }
        var rc: Int32 = -1
        let out = SecretBytes(count: box.count - overhead) { (buf) -> Void in
            key.bytes.withUnsafeBytes { k in
                bytes.withUnsafeBufferPointer { all in
                    guard let base = all.baseAddress else { return }
                    var mlen: UInt64 = 0
                    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
                        buf.baseAddress?.assumingMemoryBound(to: UInt8.self), &mlen, nil,
                        base + box.lowerBound + nonceLength, UInt64(box.count - nonceLength),
                        base + ad.lowerBound, UInt64(ad.count), base + box.lowerBound, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        if rc != 0 { throw .authenticationFailed }
        return out
    }

    /// Decrypts and authenticates `box` into a plain byte array (for non-secret contents).
    public static func open(_ box: [UInt8], key: borrowing SymmetricKey, ad: [UInt8]) throws(CryptoError) -> [UInt8] {
        let secret = try openSecret(box, key: key, ad: ad)
        return secret.withUnsafeBytes { Array($0) }
    }
}
