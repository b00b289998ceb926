// Fuzzes LeaveRequest.parse and verify: any input gives a value or a thrown error; accepted requests re-encode.
import RoomKeyCore

let member = Person("bob")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let request = try? LeaveRequest.parse(bytes) else { return 0 }
    require(LeaveRequest.looksLike(bytes), "parsed but does not look like a request")
    require(request.encoded == bytes && bytes.count == LeaveRequest.length, "encoded differs")
    var w = ByteWriter()
    w.write(LeaveRequest.magic)
    w.write(request.roomID.bytes)
    w.writeU64(request.epoch)
    w.write(request.member.bytes)
    w.writeU64(request.time)
    require(w.bytes == Array(bytes.prefix(bytes.count - 64)), "fields do not re-encode")
    _ = try? request.verify(member.signing.publicKey)
    return 0
}
