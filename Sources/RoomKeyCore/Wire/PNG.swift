/// A minimal PNG encoder (RFC 2083 / ISO/IEC 15948) for black-and-white images such as QR codes.
///
/// The image data is a zlib stream (RFC 1950) of stored, uncompressed deflate blocks (RFC 1951 §3.2.4), so no
/// compression library is needed; every chunk carries its CRC-32 and the zlib stream its Adler-32.
public enum PNG {
    /// The eight-byte PNG signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    /// A 1-bit grayscale PNG: `rows[y][x]` is `true` for a white pixel; every row has `width` pixels.
    public static func grayscale1Bit(rows: [[Bool]], width: Int) -> [UInt8] {
        let stride = (width + 7) / 8
        var raw: [UInt8] = []
        raw.reserveCapacity(rows.count * (stride + 1))
        for row in rows {
            raw.append(0) // filter type: none
            var packed = [UInt8](repeating: 0, count: stride)
            for x in 0..<min(width, row.count) where row[x] { packed[x / 8] |= 0x80 >> UInt8(x % 8) }
            raw += packed
        }
        var header: [UInt8] = []
        appendU32(UInt32(width), to: &header)
        appendU32(UInt32(rows.count), to: &header)
        header += [1, 0, 0, 0, 0] // bit depth 1, color type 0 (grayscale), deflate, adaptive filtering, no interlace
        return signature + chunk("IHDR", header) + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
    }

    /// A zlib stream holding `data` in stored (uncompressed) deflate blocks of at most 65535 bytes.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01] // deflate, 32 KiB window, no dictionary, fastest; (0x7801 % 31 == 0)
        var start = 0
        repeat {
            let count = min(65_535, data.count - start)
            let last: UInt8 = start + count == data.count ? 1 : 0
            let len = UInt16(count), nlen = ~UInt16(count)
            out += [last, UInt8(len & 0xff), UInt8(len >> 8), UInt8(nlen & 0xff), UInt8(nlen >> 8)]
            out += data[start..<(start + count)]
            start += count
        } while start < data.count
        appendU32(adler32(data), to: &out)
        return out
    }

    /// One chunk: length, type, data, CRC-32 of type and data.
    package static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        appendU32(UInt32(data.count), to: &out)
        let body = Array(type.utf8) + data
        out += body
        appendU32(crc32(body), to: &out)
        return out
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as PNG and zlib's `crc32` define it (reflected polynomial 0xEDB88320).
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in data { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }

    /// Adler-32 (RFC 1950 §8.2).
    public static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < data.count {
            // 5552 bytes is the most that can be summed before the 32-bit sums could overflow.
            let end = min(i + 5552, data.count)
            for byte in data[i..<end] {
                a += UInt32(byte)
                b += a
            }
            a %= 65_521
            b %= 65_521
            i = end
        }
        return b << 16 | a
    }

    private static func appendU32(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}
