import CSodium

/// Argon2id passphrase hashing (`crypto_pwhash`, algorithm ARGON2ID13).
public enum Argon2id {
    /// Salt length (16).
    public static let saltLength = Int(crypto_pwhash_SALTBYTES)
    /// libsodium's interactive operations limit.
    public static let interactiveOpsLimit = UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE)
    /// libsodium's interactive memory limit, in bytes.
    public static let interactiveMemLimit = UInt64(crypto_pwhash_MEMLIMIT_INTERACTIVE)
    /// libsodium's smallest accepted operations limit.
    public static let minOpsLimit = UInt64(crypto_pwhash_OPSLIMIT_MIN)
    /// libsodium's smallest accepted memory limit.
    public static let minMemLimit = UInt64(crypto_pwhash_MEMLIMIT_MIN)
    /// The largest memory limit roomkey accepts from a stored header (1 GiB).
    public static let maxMemLimit: UInt64 = 1 << 30
    /// The largest operations limit roomkey accepts from a stored header.
    public static let maxOpsLimit: UInt64 = 64

    /// Derives a 32-byte key from `passphrase` and `salt`.
    public static func deriveKey(passphrase: borrowing SecretBytes, salt: [UInt8], opsLimit: UInt64,
                                 memLimit: UInt64) throws(CryptoError) -> SymmetricKey {
        try Sodium.ready()
        try Sodium.checkLength("Argon2id salt", salt.count, saltLength)
        guard (minOpsLimit...maxOpsLimit).contains(opsLimit), (minMemLimit...maxMemLimit).contains(memLimit) else {
            throw .passwordHashFailed
        }
        var rc: Int32 = -1
        let out = passphrase.withUnsafeBytes { (p) -> SecretBytes in
            SecretBytes(count: SymmetricKey.length) { (buf) -> Void in
                rc = crypto_pwhash(buf.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(SymmetricKey.length),
                                   p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count), salt,
                                   opsLimit, Int(memLimit), crypto_pwhash_ALG_ARGON2ID13)
            }
        }
        if rc != 0 { throw .passwordHashFailed }
        return try SymmetricKey(out)
    }
}
