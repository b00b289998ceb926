import CQREncode

/// A QR code symbol made by libqrencode (the only code that calls it), with its terminal and PNG renderings.
public struct QRCode: Sendable, Equatable {
    /// Error-correction levels (ISO/IEC 18004).
    public enum Level: Sendable {
        /// About 7% of codewords recoverable.
        case low
        /// About 15%.
        case medium
        /// About 25%.
        case quartile
        /// About 30%.
        case high

        package var c: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// The most bytes one symbol holds in 8-bit mode (version 40, level L).
    public static let maxBytes = 2953

    /// The symbol version (1...40).
    public let version: Int
    /// Modules per side, without the quiet zone.
    public let size: Int
    /// Row-major modules, `true` for dark.
    public let modules: [Bool]

    /// Encodes `data` in 8-bit byte mode in the smallest version that holds it.
    public init(bytes data: [UInt8], level: Level = .medium) throws(QRCodeError) {
        if data.isEmpty { throw .empty }
        if data.count > Self.maxBytes { throw .tooLarge(count: data.count, limit: Self.maxBytes) }
        let symbol = data.withUnsafeBufferPointer { QRcode_encodeData(Int32($0.count), $0.baseAddress, 0, level.c) }
        guard let symbol else { throw .tooLarge(count: data.count, limit: Self.maxBytes) }
        defer { QRcode_free(symbol) }
        let width = Int(symbol.pointee.width)
        guard width >= 21, let cells = symbol.pointee.data else { throw .encodingFailed }
        version = Int(symbol.pointee.version)
        size = width
        // libqrencode sets bit 0 of each module byte for a dark module.
        modules = (0..<(width * width)).map { cells[$0] & 1 == 1 }
    }

    /// True when the module at column `x`, row `y` is dark; modules outside the symbol (the quiet zone) are light.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// The symbol as text, two module rows per line with Unicode half blocks, for a terminal.
    ///
    /// Light modules (and the `quietZone` around the symbol) are drawn as block glyphs and dark modules as
    /// spaces, so the code reads correctly in the usual light-on-dark terminal; `invert` swaps the two.
    public func halfBlockLines(quietZone: Int = 2, invert: Bool = false) -> [String] {
        let q = max(0, quietZone)
        let range = -q..<(size + q)
        return stride(from: -q, to: size + q, by: 2).map { y in
            String(range.map { x -> Character in
                let top = isDark(x: x, y: y) == invert
                let bottom = y + 1 < size + q ? isDark(x: x, y: y + 1) == invert : false
                switch (top, bottom) {
                case (true, true): return "\u{2588}"
                case (true, false): return "\u{2580}"
                case (false, true): return "\u{2584}"
                case (false, false): return " "
                }
            })
        }
    }

    /// The symbol as a 1-bit grayscale PNG: `scale` pixels per module and a `quietZone` of light modules.
    public func png(scale: Int = 8, quietZone: Int = 4) throws(QRCodeError) -> [UInt8] {
        let s = max(1, scale), q = max(0, quietZone)
        let side = (size + 2 * q) * s
        guard side <= 16_384 else { throw .imageTooLarge(side: side) }
        var rows: [[Bool]] = []
        rows.reserveCapacity(side)
        for py in 0..<side {
            // In PNG grayscale, a set bit is white: light modules are `true`.
            rows.append((0..<side).map { px in !isDark(x: px / s - q, y: py / s - q) })
        }
        return PNG.grayscale1Bit(rows: rows, width: side)
    }
}

/// Errors making QR codes.
public enum QRCodeError: Error, Equatable, Sendable {
    /// There is nothing to encode.
    case empty
    /// The data does not fit in one symbol.
    case tooLarge(count: Int, limit: Int)
    /// libqrencode returned no symbol for another reason.
    case encodingFailed
    /// The requested image would be wider than 16384 pixels.
    case imageTooLarge(side: Int)
}

extension QRCodeError: RoomKeyError {
    /// Oversized data is malformed input; anything else is a failure.
    public var category: ErrorCategory {
        switch self {
        case .empty, .tooLarge: .malformed
        case .encodingFailed, .imageTooLarge: .failure
        }
    }

    /// A one-line description.
    public var message: String {
        switch self {
        case .empty: "nothing to encode in a qr code"
        case let .tooLarge(count, limit): "\(count) bytes do not fit in one qr code (limit \(limit))"
        case .encodingFailed: "libqrencode could not encode the data"
        case let .imageTooLarge(side): "a qr code image of \(side) pixels is too large"
        }
    }
}
