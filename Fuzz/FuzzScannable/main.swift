// Fuzzes ScannableFingerprint.decode and compare: any input gives a value or a thrown error; a decoded fingerprint
// with two 32-byte halves re-encodes to something that decodes to the same value.
import RoomKeyCore

let ours = try! ScannableFingerprint(version: 2, local: Array(seed("local")), remote: Array(seed("remote")))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = input(data, size)
    _ = try? ours.compare(bytes)
    guard let decoded = try? ScannableFingerprint.decode(bytes) else { return 0 }
    if let fp = try? ScannableFingerprint(version: decoded.version, local: decoded.local, remote: decoded.remote) {
        let again = try? ScannableFingerprint.decode(fp.encoded)
        require(again?.version == decoded.version && again?.local == decoded.local && again?.remote == decoded.remote,
                "fingerprint does not round-trip")
        if decoded.version == ours.version {
            let same = (try? ours.compare(bytes)) ?? false
            require(same == (decoded.local == ours.remote && decoded.remote == ours.local), "compare is wrong")
        }
    }
    return 0
}
