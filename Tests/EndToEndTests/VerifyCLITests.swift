import Foundation
import Testing

/// Transcripts of safety-number verification between keyrings: `verify`, `contact accept`, QR codes.
@Suite struct VerifyCLITests {
    /// Two keyrings, alice and bob, holding each other's cards.
    static func pair() throws -> Sandbox {
        let s = try Sandbox()
        let alice = try s.person("alice"), bob = try s.person("bob")
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(bob.utf8)).code == 0)
        #expect(try s.roomkey("bob", ["contact", "add", "-"], stdin: Data(alice.utf8)).code == 0)
        return s
    }

    /// `verify NAME --json` as a dictionary.
    static func verify(_ s: Sandbox, _ who: String, _ name: String, _ extra: [String] = []) throws -> [String: Any] {
        let r = try s.roomkey(who, ["verify", name, "--json"] + extra)
        #expect(r.code == 0, "\(r)")
        return try r.json()
    }

    static func grouped(_ digits: String) -> String {
        stride(from: 0, to: digits.count, by: 5).map { i in
            String(digits.dropFirst(i).prefix(5))
        }.joined(separator: " ")
    }

    @Test func twoKeyringsComputeTheSameNumberAndVerifyEachOther() throws {
        let s = try Self.pair()
        let a = try Self.verify(s, "alice", "bob"), b = try Self.verify(s, "bob", "alice")
        let number = try #require(a["safety_number"] as? String)
        #expect(number.count == 60 && number.allSatisfy(\.isNumber))
        #expect(b["safety_number"] as? String == number)
        #expect(a["verified"] as? Bool == false && a["key_changed"] as? Bool == false)
        #expect((a["scannable"] as? String)?.count == 148)

        let text = try s.roomkey("alice", ["verify", "bob"])
        let groups = Self.grouped(number).split(separator: " ")
        #expect(text.stdout == "safety number with bob:\n" + stride(from: 0, to: 12, by: 4).map {
            "    " + groups[$0..<($0 + 4)].joined(separator: " ") + "\n"
        }.joined() + "status: unverified\n")
        #expect(text.stderr.contains("roomkey verify bob --confirm DIGITS"))

        let confirm = try s.roomkey("alice", ["verify", "bob", "--confirm", Self.grouped(number)])
        #expect(confirm.code == 0, "\(confirm)")
        #expect(confirm.stdout.hasSuffix("status: verified\n"))
        #expect(try s.roomkey("alice", ["contact", "show", "bob", "--json"]).json()["verified"] as? Bool == true)
        let listed = try s.roomkey("alice", ["contact", "list", "--json"]).json()["contacts"] as? [[String: Any]]
        #expect(listed?.first?["verified"] as? Bool == true)

        let spaced = "  " + Self.grouped(number).replacingOccurrences(of: " ", with: "   ") + " "
        let back = try Self.verify(s, "bob", "alice", ["--confirm", spaced])
        #expect(back["verified"] as? Bool == true && back["confirmed"] as? Bool == true)
        #expect(try Self.verify(s, "bob", "alice")["verified"] as? Bool == true)
    }

    @Test(arguments: ["wrong-digit", "too-short", "letters"])
    func wrongConfirmationChangesNothing(kind: String) throws {
        let s = try Self.pair()
        let number = try #require(try Self.verify(s, "alice", "bob")["safety_number"] as? String)
        let typed: String = switch kind {
        case "wrong-digit": String(number.dropLast()) + (number.last == "0" ? "1" : "0")
        case "too-short": String(number.prefix(30))
        default: "not a number"
        }
        let before = s.rawBytes(of: "alice")
        // Digits that differ fail the comparison (2); something that is not 60 digits is a usage error (64).
        let code: Int32 = kind == "wrong-digit" ? 2 : 64
        let r = try s.roomkey("alice", ["verify", "bob", "--confirm", typed])
        #expect(r.code == code, "\(r)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix(kind == "wrong-digit" ? "roomkey: error: the digits given do not match the safety number with \"bob\"\n"
                                                         : "roomkey: error: --confirm takes the 60 digits of the safety number"))
        #expect(r.stderr.contains(kind == "wrong-digit" ? "roomkey: hint: nothing was changed"
                                                        : "roomkey: hint: give all 60 digits that 'roomkey verify bob' shows"), "\(r)")
        #expect(s.rawBytes(of: "alice") == before)
        let json = try s.roomkey("alice", ["verify", "bob", "--confirm", typed, "--json"])
        #expect(json.code == code)
        #expect((try json.json()["error"] as? [String: Any])?["kind"] as? String == (kind == "wrong-digit" ? "rejected" : "usage"))
        #expect(s.rawBytes(of: "alice") == before)
        #expect(try Self.verify(s, "alice", "bob")["verified"] as? Bool == false)
    }

    @Test func scannableFormsCompareCrosswise() throws {
        let s = try Self.pair()
        let aliceHex = try s.roomkey("alice", ["verify", "bob", "--scannable", "-q"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let bobHex = try s.roomkey("bob", ["verify", "alice", "--scannable", "-q"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(aliceHex.count == 148 && aliceHex.hasPrefix("080212220a20"))
        #expect(try s.roomkey("alice", ["verify", "bob", "--scannable"]).stderr.contains("'roomkey verify alice --compare-scannable HEX'"))
        #expect(try Self.verify(s, "alice", "bob")["scannable"] as? String == aliceHex)
        // Each side's halves are the other's, crossed.
        #expect(aliceHex.dropFirst(12).prefix(64) == bobHex.dropFirst(84).prefix(64))
        #expect(aliceHex.dropFirst(84).prefix(64) == bobHex.dropFirst(12).prefix(64))

        let before = s.rawBytes(of: "alice")
        let own = try s.roomkey("alice", ["verify", "bob", "--compare-scannable", aliceHex])
        #expect(own.code == 2, "\(own)")
        #expect(own.stderr.hasPrefix("roomkey: error: the scanned fingerprint does not match the safety number with \"bob\""))
        let v1 = "0801" + aliceHex.dropFirst(4)
        let mismatch = try s.roomkey("alice", ["verify", "bob", "--compare-scannable", v1])
        #expect(mismatch.code == 65, "\(mismatch)")
        #expect(mismatch.stderr.hasPrefix("roomkey: error: the scannable fingerprint has version 1, this roomkey compares version 2"))
        #expect(try s.roomkey("alice", ["verify", "bob", "--compare-scannable", "zz"]).code == 65)
        #expect(try s.roomkey("alice", ["verify", "bob", "--compare-scannable", "0802"]).code == 2)
        #expect(s.rawBytes(of: "alice") == before)

        let ok = try Self.verify(s, "alice", "bob", ["--compare-scannable", bobHex])
        #expect(ok["verified"] as? Bool == true && ok["confirmed"] as? Bool == true)
        #expect(try Self.verify(s, "bob", "alice", ["--compare-scannable", aliceHex.uppercased()])["verified"] as? Bool == true)
        let both = try s.roomkey("bob", ["verify", "alice", "--confirm", "1", "--compare-scannable", aliceHex])
        #expect(both.code == 64)
    }

    @Test func recreatedIdentityIsCaughtAndAcceptClearsIt() throws {
        let s = try Self.pair()
        let old = try #require(try Self.verify(s, "alice", "bob")["safety_number"] as? String)
        #expect(try s.roomkey("alice", ["verify", "bob", "--confirm", old]).code == 0)
        // Bob re-creates his identity with the same handle; alice imports the new card.
        try FileManager.default.removeItem(atPath: s.path("bob"))
        let card = try s.person("bob")
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)

        let list = try #require(try s.roomkey("alice", ["contact", "list", "--json"]).json()["contacts"] as? [[String: Any]])
        #expect(list.first?["key_changed"] as? Bool == true && list.first?["verified"] as? Bool == false)
        #expect(try s.roomkey("alice", ["contact", "show", "bob", "--json"]).json()["key_changed"] as? Bool == true)
        let v = try Self.verify(s, "alice", "bob")
        #expect(v["key_changed"] as? Bool == true && v["verified"] as? Bool == false)
        #expect(v["safety_number"] as? String != old)
        let text = try s.roomkey("alice", ["verify", "bob"])
        #expect(text.stdout.hasSuffix("status: KEY-CHANGED\n"))
        #expect(text.stderr.contains("roomkey: warning: the identity key of \"bob\" changed"))
        #expect(text.stderr.contains("roomkey contact accept bob"))

        let accept = try s.roomkey("alice", ["contact", "accept", "bob", "--json"])
        #expect(accept.code == 0, "\(accept)")
        let doc = try accept.json()
        #expect(doc["status"] as? String == "accepted" && doc["name"] as? String == "bob")
        #expect(doc["key_changed"] as? Bool == false && doc["verified"] as? Bool == false)
        let after = try Self.verify(s, "alice", "bob")
        #expect(after["key_changed"] as? Bool == false && after["verified"] as? Bool == false)
        #expect(try s.roomkey("alice", ["contact", "list"]).stdout.contains("unverified"))
        let again = try s.roomkey("alice", ["contact", "accept", "bob"])
        #expect(again.code == 0)
        #expect(again.stdout.hasPrefix("the identity key of bob has not changed"))
        #expect(try s.roomkey("alice", ["contact", "accept", "zed"]).code == 4)
    }

    @Test func confirmingAChangedKeyVerifiesIt() throws {
        let s = try Self.pair()
        try FileManager.default.removeItem(atPath: s.path("bob"))
        let card = try s.person("bob")
        #expect(try s.roomkey("alice", ["contact", "add", "-"], stdin: Data(card.utf8)).code == 0)
        _ = try s.roomkey("bob", ["contact", "add", "-"], stdin: Data(try s.roomkey("alice", ["id", "export"]).stdout.utf8))
        let bobSees = try #require(try Self.verify(s, "bob", "alice")["safety_number"] as? String)
        let done = try Self.verify(s, "alice", "bob", ["--confirm", Self.grouped(bobSees)])
        #expect(done["verified"] as? Bool == true && done["key_changed"] as? Bool == false)
    }

    @Test func qrPNGDecodesToTheScannableBytes() throws {
        let s = try Self.pair()
        let hex = try #require(try Self.verify(s, "alice", "bob")["scannable"] as? String)
        let png = s.path("alice-bob.png")
        let written = try Self.verify(s, "alice", "bob", ["--qr-png", png])
        #expect(written["qr_png"] as? String == png)
        let decoded = try Self.zbarimg(png)
        #expect(decoded.map { String(format: "%02x", $0) }.joined() == hex)

        let terminal = try s.roomkey("alice", ["verify", "bob", "--qr"])
        #expect(terminal.code == 0)
        let lines = terminal.stdout.split(separator: "\n")
        #expect(lines.count > 20 && lines.suffix(15).allSatisfy { $0.contains("\u{2588}") || $0.contains("\u{2580}") })
        #expect(try s.roomkey("alice", ["verify", "bob", "--qr", "--json"]).code == 64)
        #expect(try s.roomkey("alice", ["verify", "zed"]).code == 4)
    }

    /// The bytes of the one QR code in the image at `path`, decoded by zbarimg (Debian zbar-tools, installed by scripts/deps).
    static func zbarimg(_ path: String) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // --raw: no charset conversion; -Sbinary: the QR's 8-bit data as is; --oneshot: one code; -q: data only.
        p.arguments = ["zbarimg", "--raw", "-q", "--oneshot", "--nodbus", "-Sbinary", path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        _ = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "zbarimg failed (exit \(p.terminationStatus)); run scripts/deps to install zbar-tools")
        return Array(data)
    }
}
