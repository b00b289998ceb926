import Foundation

/// Errors raised while loading a test fixture.
package enum FixtureError: Error, CustomStringConvertible {
    case unreadable(String)
    case malformedLine(file: String, line: Int)
    case duplicateKey(file: String, key: String)
    case missingKey(file: String, key: String)
    case notHex(file: String, key: String)
    case notInteger(file: String, key: String)

    package var description: String {
        switch self {
        case .unreadable(let path): "cannot read fixture \(path)"
        case .malformedLine(let file, let line): "\(file):\(line): expected `key = value`"
        case .duplicateKey(let file, let key): "\(file): key \(key) appears twice"
        case .missingKey(let file, let key): "\(file): no key \(key)"
        case .notHex(let file, let key): "\(file): \(key) is not hexadecimal"
        case .notInteger(let file, let key): "\(file): \(key) is not an unsigned integer"
        }
    }
}

/// The URL of a file under the package's `fixtures/` folder, e.g. `fixtureURL("crypto/sha512.txt")`.
///
/// The package root is three levels up from this file (`Tests/RoomKeyTests/Fixtures.swift`).
package func fixtureURL(_ relativePath: String) -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // RoomKeyTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // package root
        .appendingPathComponent("fixtures")
        .appendingPathComponent(relativePath)
}

/// A parsed `key = value` fixture: `#` starts a comment line, blank lines are ignored,
/// the value is everything after the first `=` with surrounding spaces trimmed (it may be empty).
package struct KeyValueFixture {
    package let name: String
    package let values: [String: String]

    package init(_ relativePath: String) throws {
        name = relativePath
        let url = fixtureURL(relativePath)
        guard let data = try? Data(contentsOf: url) else { throw FixtureError.unreadable(url.path) }
        values = try Self.parse(String(decoding: data, as: UTF8.self), name: relativePath)
    }

    package static func parse(_ text: String, name: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { throw FixtureError.malformedLine(file: name, line: index + 1) }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if key.isEmpty { throw FixtureError.malformedLine(file: name, line: index + 1) }
            if out[key] != nil { throw FixtureError.duplicateKey(file: name, key: key) }
            out[key] = value
        }
        return out
    }

    /// The text value of `key`.
    package func string(_ key: String) throws -> String {
        guard let v = values[key] else { throw FixtureError.missingKey(file: name, key: key) }
        return v
    }

    /// The value of `key` decoded from hex (an empty value is zero bytes).
    package func hex(_ key: String) throws -> [UInt8] {
        guard let bytes = hexDecode(try string(key)) else { throw FixtureError.notHex(file: name, key: key) }
        return bytes
    }

    /// The value of `key` as UTF-8 bytes.
    package func utf8(_ key: String) throws -> [UInt8] { Array(try string(key).utf8) }

    /// The value of `key` as an unsigned integer.
    package func uint64(_ key: String) throws -> UInt64 {
        guard let v = UInt64(try string(key)) else { throw FixtureError.notInteger(file: name, key: key) }
        return v
    }
}

/// Decodes hex (either case), or nil on an odd length or a non-hex character.
/// Deliberately independent of the module's own `Hex` so the tests do not trust the code under test.
package func hexDecode(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 2)
    var i = 0
    while i < chars.count {
        guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// Lowercase hex of `bytes`, for readable failure messages.
package func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
