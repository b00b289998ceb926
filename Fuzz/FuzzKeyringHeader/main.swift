// Fuzzes the keyring (and backup) header decision, KeyringHeader.unwrap, compiled in from
// Sources/RoomKey/Keyring/KeyringHeader.swift with a stub GRDB: a hostile disk controls every column. The input gives
// format (u8), kdf (1-byte length + text), ops_limit (i64), mem_limit (i64), salt (1-byte length), wrapped key (rest).
// Any header gives a key or a thrown error. Argon2id runs for real only with small limits (ops <= 2, mem <= 64 KiB);
// larger in-range limits are skipped, since they only make each run slower (up to 64 passes over 1 GiB, by design).
import Foundation
import RoomKeyCore

let kdfs = ["argon2id13", "none"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var t = Takes(input(data, size))
    let format = Int(t.u8()) - 64
    let kdfByte = t.u8()
    let kdf = kdfByte < 0x80 ? kdfs[Int(kdfByte) % 2] : String(decoding: t.take(Int(kdfByte & 0x7f)), as: UTF8.self)
    let ops = Int64(bitPattern: t.u64())
    let mem = Int64(bitPattern: t.u64())
    let salt = Data(t.chunk())
    let wrapped = Data(t.rest())
    if kdf == KeyringHeader.argon2id, ops > 2 || mem > 65_536 {
        if (Argon2id.minOpsLimit...Argon2id.maxOpsLimit).contains(UInt64(truncatingIfNeeded: ops)),
           (Argon2id.minMemLimit...Argon2id.maxMemLimit).contains(UInt64(truncatingIfNeeded: mem)), ops > 0, mem > 0 {
            return 0
        }
    }
    let header = KeyringHeader(format: format, kdf: kdf, opsLimit: ops, memLimit: mem, salt: salt, wrappedKey: wrapped)
    var asked = false
    let key = try? header.unwrap(passphrase: { asked = true; return secret(Array("correct horse".utf8)) })
    require(!asked || header.needsPassphrase, "asked for a passphrase it does not need")
    if key != nil {
        require(format == KeyringHeader.currentFormat, "unwrapped an unknown format")
        require(kdf == KeyringHeader.none ? wrapped.count == 32 : kdf == KeyringHeader.argon2id, "unwrapped an unknown kdf")
    }
    return 0
}

/// Keyring.swift's `KDFLimits` (that file needs GRDB): only `KeyringHeader.protected`, not fuzzed here, uses it.
struct KDFLimits {
    var opsLimit: UInt64
    var memLimit: UInt64
}
