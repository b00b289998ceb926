import Foundation
import Testing
import RoomKeyTestSupport
@testable import RoomKeyCore

@Suite("QR codes (libqrencode) and the PNG writer")
struct QRCodeTests {
    static let scannable = [UInt8](repeating: 0x12, count: 74)

    @Test func symbolSizeFollowsItsVersion() throws {
        let qr = try QRCode(bytes: Self.scannable)
        #expect((1...40).contains(qr.version))
        #expect(qr.size == 17 + 4 * qr.version)
        #expect(qr.modules.count == qr.size * qr.size)
        // Finder pattern corners are dark, the separator beside them light.
        #expect(qr.isDark(x: 0, y: 0) && qr.isDark(x: qr.size - 1, y: 0) && qr.isDark(x: 0, y: qr.size - 1))
        #expect(!qr.isDark(x: 7, y: 0) && !qr.isDark(x: -1, y: 0) && !qr.isDark(x: qr.size, y: qr.size))
    }

    @Test func emptyAndOversizedDataAreRefused() throws {
        #expect(throws: QRCodeError.empty) { try QRCode(bytes: []) }
        #expect(throws: QRCodeError.tooLarge(count: 2954, limit: 2953)) { try QRCode(bytes: [UInt8](repeating: 1, count: 2954)) }
        #expect(throws: QRCodeError.tooLarge(count: 2000, limit: 2953)) {
            try QRCode(bytes: [UInt8](repeating: 1, count: 2000), level: .high)
        }
    }

    /// Reads half-block text back into modules (`true` = dark), the inverse of `halfBlockLines`.
    static func modules(from lines: [String], invert: Bool) -> [[Bool]] {
        var rows: [[Bool]] = []
        for line in lines {
            var top: [Bool] = [], bottom: [Bool] = []
            for ch in line {
                let (t, b): (Bool, Bool) = switch ch {
                case "\u{2588}": (true, true)
                case "\u{2580}": (true, false)
                case "\u{2584}": (false, true)
                default: (false, false)
                }
                top.append(t == invert)
                bottom.append(b == invert)
            }
            rows += [top, bottom]
        }
        return rows
    }

    @Test("half blocks draw every module and the quiet zone", arguments: [false, true])
    func halfBlocksRoundTrip(invert: Bool) throws {
        let qr = try QRCode(bytes: Self.scannable)
        let q = 2
        let lines = qr.halfBlockLines(quietZone: q, invert: invert)
        #expect(lines.count == (qr.size + 2 * q + 1) / 2)
        #expect(lines.allSatisfy { $0.count == qr.size + 2 * q })
        let grid = Self.modules(from: lines, invert: invert)
        for y in -q..<(qr.size + q) {
            for x in -q..<(qr.size + q) {
                #expect(grid[y + q][x + q] == qr.isDark(x: x, y: y), "module \(x),\(y)")
            }
        }
    }

    @Test func checksumsMatchPublishedValues() {
        #expect(PNG.crc32(Array("123456789".utf8)) == 0xCBF4_3926) // CRC-32/ISO-HDLC check value
        #expect(PNG.crc32([]) == 0)
        #expect(PNG.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNG.adler32([]) == 1)
        #expect(PNG.adler32([UInt8](repeating: 0xff, count: 100_000)) == Self.slowAdler([UInt8](repeating: 0xff, count: 100_000)))
    }

    static func slowAdler(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65_521; b = (b + a) % 65_521 }
        return b << 16 | a
    }

    /// Undoes `zlibStored`, checking every block header and the Adler-32 trailer.
    static func inflateStored(_ z: [UInt8]) -> [UInt8]? {
        guard z.count >= 6, z[0] == 0x78, (UInt16(z[0]) << 8 | UInt16(z[1])) % 31 == 0 else { return nil }
        var i = 2, out: [UInt8] = []
        while true {
            guard i + 5 <= z.count, z[i] & 0xfe == 0 else { return nil }
            let last = z[i] == 1
            let len = Int(z[i + 1]) | Int(z[i + 2]) << 8, nlen = Int(z[i + 3]) | Int(z[i + 4]) << 8
            guard len ^ nlen == 0xffff, i + 5 + len <= z.count else { return nil }
            out += z[(i + 5)..<(i + 5 + len)]
            i += 5 + len
            if last { break }
        }
        guard i + 4 == z.count, z[i...].reduce(UInt32(0), { $0 << 8 | UInt32($1) }) == PNG.adler32(out) else { return nil }
        return out
    }

    @Test("stored deflate blocks split at 65535 bytes", arguments: [0, 1, 65_535, 65_536, 200_000])
    func storedBlocks(count: Int) {
        let data = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7) }
        #expect(Self.inflateStored(PNG.zlibStored(data)) == data)
    }

    @Test func pngChunksAndPixelsAreWellFormed() throws {
        let qr = try QRCode(bytes: Self.scannable)
        let png = try qr.png(scale: 3, quietZone: 4)
        #expect(Array(png.prefix(8)) == PNG.signature)
        var i = 8, chunks: [(String, [UInt8])] = []
        while i + 12 <= png.count {
            let length = Int(png[i..<(i + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let body = Array(png[(i + 4)..<(i + 8 + length)])
            let crc = png[(i + 8 + length)..<(i + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(crc == PNG.crc32(body))
            chunks.append((String(decoding: body.prefix(4), as: UTF8.self), Array(body.dropFirst(4))))
            i += 12 + length
        }
        #expect(i == png.count)
        #expect(chunks.map(\.0) == ["IHDR", "IDAT", "IEND"])
        let side = (qr.size + 8) * 3
        let ihdr = chunks[0].1
        #expect(ihdr == [0, 0, UInt8(side >> 8), UInt8(side & 0xff), 0, 0, UInt8(side >> 8), UInt8(side & 0xff), 1, 0, 0, 0, 0])
        let raw = try #require(Self.inflateStored(chunks[1].1))
        let stride = (side + 7) / 8
        #expect(raw.count == side * (stride + 1))
        for py in Swift.stride(from: 0, to: side, by: 5) {
            for px in Swift.stride(from: 0, to: side, by: 5) {
                let white = raw[py * (stride + 1) + 1 + px / 8] & (0x80 >> UInt8(px % 8)) != 0
                #expect(white == !qr.isDark(x: px / 3 - 4, y: py / 3 - 4))
            }
        }
    }
}
