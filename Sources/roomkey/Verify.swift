import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey verify NAME`: the safety number shared with a contact; confirming it marks the contact verified.
    struct Verify: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Show the safety number you share with a contact; confirm it to mark the contact verified.",
            discussion: """
                The safety number is Signal's 60-digit numeric fingerprint of your identity key and handle and the \
                contact's: you and the contact see the same digits. Compare them in person or over a call you \
                trust, then run 'roomkey verify NAME --confirm DIGITS' (spaces ignored). Digits that do not match \
                exit 2 and change nothing. --scannable prints Signal's 74-byte scannable form as hex instead; give \
                the contact's with --compare-scannable to check it the way a Signal QR scan does. --qr draws the \
                scannable form as a QR code on the terminal and --qr-png writes it as a PNG image.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The contact name.", valueName: "name"))
        var name: String

        @Option(help: ArgumentHelp("The 60 digits the contact reads to you (spaces ignored); marks the contact verified when they match.",
                                   valueName: "digits"))
        var confirm: String?

        @Flag(help: "Print the scannable form (74 bytes) as hex instead of the digits.")
        var scannable = false

        @Option(name: .customLong("compare-scannable"),
                help: ArgumentHelp("The contact's scannable form as hex; marks the contact verified when it matches.", valueName: "hex"))
        var compareScannable: String?

        @Flag(help: "Draw the scannable form as a QR code on the terminal.")
        var qr = false

        @Option(name: .customLong("qr-png"), help: ArgumentHelp("Write the scannable form as a QR code PNG image to this file ('-': standard output).",
                                                                 valueName: "file"), completion: .file())
        var qrPng: String?

        @Flag(name: .long, help: "Replace an existing file at the --qr-png path.")
        var force = false

        func validate() throws {
            if confirm != nil, compareScannable != nil { throw ValidationError("give --confirm or --compare-scannable, not both") }
            if qr, global.json { throw ValidationError("--qr draws on the terminal and cannot be combined with --json") }
        }

        func execute(_ output: Output) throws {
            try OutputFile.check(qrPng, force: force)
            let keyring = try openKeyring()
            let own = try keyring.identityCard()
            var contact = try keyring.contact(named: name)
            // Named by its id, the contact is shown, and suggested back, by its name.
            let name = contact.name
            let number = try SafetyNumber(local: own, remote: contact.card)
            var confirmed = false
            // Every check runs before anything is stored or written.
            if let confirm {
                guard number.matches(confirm) else { throw VerifyError.digitsDiffer(name: name, typed: SafetyNumber.normalized(confirm)) }
                confirmed = true
            }
            if let compareScannable {
                let theirs = try Hex.decode(SafetyNumber.normalized(compareScannable), what: "scannable fingerprint")
                guard try number.scannable.compare(theirs) else { throw VerifyError.scannableDiffers(name: name) }
                confirmed = true
            }
            let code = qr || qrPng != nil ? try QRCode(bytes: number.scannable.encoded) : nil
            let image = try qrPng.flatMap { _ in try code?.png() }
            if confirmed { contact = try keyring.markVerified(named: name, identity: contact.id) }
            if let qrPng, let image {
                try OutputFile.write(Data(image), to: qrPng, force: force)
                output.note("wrote the scannable safety number of \(name) as a QR code to \(qrPng)")
            }
            let doc = VerifyDocument(contact, number: number, confirmed: confirmed, qrPng: qrPng)
            report(contact, confirmed: confirmed, ownHandle: own.handle, output)
            output.result(doc) {
                let lines = scannable ? [doc.scannable] : ["safety number with \(name):"] + number.lines.map { "    " + $0 }
                    + ["status: \(ContactDocument(contact).status)"]
                return lines
            }
            if let code, !global.json { output.terminalArt(Self.terminalLines(code)) }
        }

        /// Notes and warnings about the contact's state.
        private func report(_ contact: Contact, confirmed: Bool, ownHandle: String, _ output: Output) {
            if confirmed {
                output.note("the safety number matches: \(name) is now verified")
            } else if contact.keyChanged {
                output.warn("the identity key of \"\(name)\" changed since you first added it; it is not verified",
                            hint: "compare the number with \(name), then run '\(ShellWord.command(["verify"], [name], options: ["--confirm", "DIGITS"]))' "
                                + "(or accept it unverified with '\(ShellWord.command(["contact", "accept"], [name]))')")
            } else if !contact.verified, scannable || qr || qrPng != nil {
                output.note("\(name) checks this with '\(ShellWord.command(["verify"], [ownHandle], options: ["--compare-scannable", "HEX"]))' (or a scan of the QR code)")
            } else if !contact.verified {
                output.note("compare these digits with \(name) in person or on a call, then run '\(ShellWord.command(["verify"], [name], options: ["--confirm", "DIGITS"]))'")
            }
        }

        /// The QR code in half blocks; on a terminal, colours force light modules on a dark background whatever the theme.
        static func terminalLines(_ code: QRCode) -> [String] {
            let lines = code.halfBlockLines(quietZone: 2)
            guard usesColour(isTerminal: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment) else { return lines }
            return lines.map { "\u{1B}[97;40m" + $0 + "\u{1B}[0m" }
        }

        /// Colours only on a terminal, and never when `NO_COLOR` is set to anything non-empty (no-color.org).
        static func usesColour(isTerminal: Bool, environment: [String: String]) -> Bool {
            isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
        }
    }

    /// The JSON form of `verify`.
    struct VerifyDocument: Encodable {
        let name: String
        let id: String
        let handle: String
        let safetyNumber: String
        let scannable: String
        let verified: Bool
        let keyChanged: Bool
        let confirmed: Bool
        let qrPng: String?

        init(_ c: Contact, number: SafetyNumber, confirmed: Bool, qrPng: String?) {
            name = c.name
            id = c.id.hex
            handle = c.card.handle
            safetyNumber = number.digits
            scannable = Hex.encode(number.scannable.encoded)
            verified = c.verified
            keyChanged = c.keyChanged
            self.confirmed = confirmed
            self.qrPng = qrPng
        }
    }
}

/// A safety-number comparison that failed: exit 2, nothing stored; `--confirm` with something that is not 60 digits
/// is a usage error (64).
enum VerifyError: RoomKeyError {
    case digitsDiffer(name: String, typed: String)
    case scannableDiffers(name: String)

    var category: ErrorCategory {
        if case let .digitsDiffer(_, typed) = self, !Self.isSafetyNumber(typed) { return .usage }
        return .rejected
    }

    /// True for 60 decimal digits, the form of a safety number.
    static func isSafetyNumber(_ typed: String) -> Bool {
        typed.count == SafetyNumber.digitCount && typed.allSatisfy { ("0"..."9").contains($0) }
    }

    var message: String {
        switch self {
        case let .digitsDiffer(name, typed):
            if !Self.isSafetyNumber(typed) {
                "--confirm takes the \(SafetyNumber.digitCount) digits of the safety number; "
                    + "\"\(typed.prefix(80))\" is not (\(typed.count) characters)"
            } else {
                "the digits given do not match the safety number with \"\(name)\""
            }
        case let .scannableDiffers(name):
            "the scanned fingerprint does not match the safety number with \"\(name)\""
        }
    }

    var hint: String? {
        switch self {
        case let .digitsDiffer(name, typed) where !Self.isSafetyNumber(typed):
            "give all \(SafetyNumber.digitCount) digits that '\(ShellWord.command(["verify"], [name]))' shows (spaces between groups are fine)"
        case let .digitsDiffer(name, _), let .scannableDiffers(name):
            "nothing was changed; check again with \(name), and if the numbers really differ do not trust this key"
        }
    }
}
