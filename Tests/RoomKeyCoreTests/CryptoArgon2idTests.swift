import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("Argon2id")
struct CryptoArgon2idTests {
    /// Small limits so the tests stay fast: 2 passes over 1 MiB.
    static let ops: UInt64 = 2
    static let mem: UInt64 = 1 << 20

    static func derive(_ passphrase: String, salt: [UInt8], ops: UInt64 = ops, mem: UInt64 = mem) throws -> [UInt8] {
        let key = try Argon2id.deriveKey(passphrase: makeSecret(Array(passphrase.utf8)), salt: salt,
                                         opsLimit: ops, memLimit: mem)
        return bytesOf(key)
    }

    @Test("libsodium pwhash_argon2id tv3 vectors (one lane, 32-byte output)", arguments: ["tv3_2", "tv3_4"])
    func libsodiumVectors(name: String) throws {
        let f = try KeyValueFixture("crypto/argon2id-libsodium.txt")
        let key = try Argon2id.deriveKey(passphrase: makeSecret(try f.hex("\(name).password")),
                                         salt: try f.hex("\(name).salt"),
                                         opsLimit: try f.uint64("\(name).opslimit"),
                                         memLimit: try f.uint64("\(name).memlimit"))
        #expect(hexString(bytesOf(key)) == hexString(try f.hex("\(name).hash")))
    }

    @Test("same inputs give the same key")
    func deterministic() throws {
        let salt = counting(16)
        let a = try Self.derive("correct horse battery staple", salt: salt)
        let b = try Self.derive("correct horse battery staple", salt: salt)
        #expect(a.count == SymmetricKey.length)
        #expect(a == b)
    }

    @Test("a different salt, passphrase or limit gives a different key")
    func inputsMatter() throws {
        let base = try Self.derive("passphrase", salt: counting(16))
        #expect(base != (try Self.derive("passphrase", salt: flippingBit(counting(16), at: 15))))
        #expect(base != (try Self.derive("passphrasf", salt: counting(16))))
        #expect(base != (try Self.derive("passphrase", salt: counting(16), ops: 3)))
        #expect(base != (try Self.derive("passphrase", salt: counting(16), mem: 2 << 20)))
    }

    @Test("an empty passphrase is accepted")
    func emptyPassphrase() throws {
        #expect(try Self.derive("", salt: counting(16)).count == 32)
    }

    @Test("limits outside roomkey's range fail with .passwordHashFailed",
          arguments: [(UInt64(0), UInt64(1) << 20),
                      (Argon2id.maxOpsLimit + 1, UInt64(1) << 20),
                      (UInt64(2), Argon2id.minMemLimit - 1),
                      (UInt64(2), Argon2id.maxMemLimit + 1),
                      (UInt64.max, UInt64.max)])
    func limitsOutOfRange(ops: UInt64, mem: UInt64) {
        #expect(throws: CryptoError.passwordHashFailed) {
            _ = try Self.derive("x", salt: counting(16), ops: ops, mem: mem)
        }
    }

    @Test("the smallest accepted limits work, and so does the largest operations limit")
    func boundaryLimits() throws {
        #expect(Argon2id.minOpsLimit == 1)
        #expect(Argon2id.minMemLimit == 8192)
        #expect(try Self.derive("x", salt: counting(16), ops: Argon2id.minOpsLimit, mem: Argon2id.minMemLimit).count == 32)
        #expect(try Self.derive("x", salt: counting(16), ops: Argon2id.maxOpsLimit, mem: Argon2id.minMemLimit).count == 32)
    }

    @Test("the interactive defaults are within roomkey's accepted range")
    func interactiveDefaults() {
        #expect((Argon2id.minOpsLimit...Argon2id.maxOpsLimit).contains(Argon2id.interactiveOpsLimit))
        #expect((Argon2id.minMemLimit...Argon2id.maxMemLimit).contains(Argon2id.interactiveMemLimit))
        #expect(Argon2id.saltLength == 16)
    }

    @Test("a salt that is not 16 bytes fails with .invalidLength", arguments: [0, 15, 17, 32])
    func wrongSaltLength(length: Int) {
        #expect(throws: CryptoError.invalidLength(what: "Argon2id salt", expected: 16, found: length)) {
            _ = try Self.derive("x", salt: counting(length))
        }
    }
}
