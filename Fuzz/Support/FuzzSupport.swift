// Shared by every fuzz target (compiled into each one; see scripts/fuzz). Not part of Package.swift.
import RoomKeyCore

/// The fuzz input as an array.
func input(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// A broken property: crash so libFuzzer saves the input.
func violated(_ what: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("fuzz property violated: \(what)", file: file, line: line)
}

/// Checks a property.
func require(_ ok: Bool, _ what: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !ok { violated(what(), file: file, line: line) }
}

/// Takes bytes off the front of the fuzz input (like LLVM's FuzzedDataProvider, simpler): reading past the end gives zeros.
struct Takes {
    var bytes: ArraySlice<UInt8>
    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }
    var isEmpty: Bool { bytes.isEmpty }
    mutating func u8() -> UInt8 { bytes.popFirst() ?? 0 }
    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
    mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }
    mutating func take(_ n: Int) -> [UInt8] {
        let out = Array(bytes.prefix(n))
        bytes = bytes.dropFirst(n)
        return out
    }
    /// A 1-byte length then that many bytes.
    mutating func chunk() -> [UInt8] { take(Int(u8())) }
    mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}

/// Secret bytes holding a copy of `bytes`.
func secret(_ bytes: [UInt8]) -> SecretBytes {
    SecretBytes(count: bytes.count) { $0.copyBytes(from: bytes) }
}

/// 32 bytes from a label: a fixed seed.
func seed(_ label: String) -> [UInt8] { BLAKE2b.hash([Array("roomkey/fuzz-seed/\(label)".utf8)]) }

/// A person with fixed keys.
final class Person {
    let signing: SigningKeyPair
    let sealing: SealingKeyPair
    let card: IdentityCard
    init(_ handle: String) {
        do {
            signing = try SigningKeyPair.fromSeed(secret(seed("\(handle)/signing")))
            sealing = try SealingKeyPair.fromSeed(secret(seed("\(handle)/sealing")))
            card = try IdentityCard(handle: handle, signer: signing, sealingKey: sealing.publicKey, created: 1_767_225_600)
        } catch {
            fatalError("fuzz world: \(error)")
        }
    }
    var id: IdentityID { card.id }
}
