import Foundation

/// The man page sections swift-argument-parser's generator does not write: EXAMPLES (from `ManualExamples`),
/// ENVIRONMENT, FILES and EXIT STATUS (from `ExitStatus.meanings`). `scripts/man` runs the hidden root option
/// `--manual-sections DIR` on the generated pages, which puts them in place of the generator's bare EXIT STATUS.
enum ManualSections {
    /// The generator's EXIT STATUS section, which these sections replace.
    static let generatedExitStatus = ".Sh \"EXIT STATUS\"\n.Ex -std"

    /// The environment variables roomkey reads.
    static let environment: [(name: String, meaning: String)] = [
        ("ROOMKEY_KEYRING", "The keyring file, when --keyring is not given."),
        ("ROOMKEY_PASSPHRASE_FILE", "A file whose first line is the passphrase, when neither --passphrase-file nor --passphrase-fd is given."),
        ("ROOMKEY_OUTBOX", "The folder bundles are written to, when neither -o nor --outbox is given."),
        ("XDG_DATA_HOME", "Where the default keyring lives: $XDG_DATA_HOME/roomkey/keyring.sqlite."),
        ("XDG_STATE_HOME", "Where the default outbox, this machine's rollback record and the git mirrors live: $XDG_STATE_HOME/roomkey (ignored unless it is an absolute path)."),
        ("NO_COLOR", "When set to anything, the QR code of verify --qr is printed without colours."),
    ]

    /// The files roomkey uses by default.
    static let files: [(path: String, meaning: String)] = [
        ("~/.local/share/roomkey/keyring.sqlite", "The keyring (without $ROOMKEY_KEYRING or $XDG_DATA_HOME), mode 0600."),
        ("~/.local/state/roomkey/outbox", "The default outbox folder (without $ROOMKEY_OUTBOX or $XDG_STATE_HOME)."),
        ("~/.local/state/roomkey", "This machine's record of each keyring's last state, to detect a rolled-back copy."),
        ("~/.local/state/roomkey/remotes/NAME-HASH", "The local mirror of git remote NAME (a bare repository; HASH depends on the identity and the URL)."),
        ("KEYRING.lock", "Beside the keyring: held (shared) by every command that has the keyring open, and by restore (alone) while it replaces it; anything but a regular file of the user's there is refused (exit 6)."),
        ("KEYRING.decrypt.lock", "Beside the keyring: held by a decrypt until it stored its state, so that a message is read once."),
        ("KEYRING.sync.lock", "Beside the keyring: held while it syncs, so that two syncs of one keyring take turns."),
        (".roomkey-tmp-*", "A file being written; renamed into place when complete, and ignored by receive."),
    ]

    /// The sections for the page of `path` (`["room", "add"]`; empty for `roomkey`), in mdoc.
    static func mdoc(for path: [String]) -> String {
        var out = ".Sh ENVIRONMENT\n.Bl -tag -width 6n\n"
        for (name, meaning) in environment { out += ".It Ev \(name)\n\(meaning)\n" }
        out += ".El\n.Sh FILES\n.Bl -tag -width 6n\n"
        for (path, meaning) in files { out += ".It Pa \(path)\n\(meaning)\n" }
        out += ".El\n.Sh \"EXIT STATUS\"\n.Bl -tag -width 6n\n"
        for (code, meaning) in ExitStatus.meanings { out += ".It \(code)\n\(escape(meaning))\n" }
        out += ".El\n"
        let examples = ManualExamples.byCommand[path.joined(separator: " ")] ?? []
        if !examples.isEmpty {
            out += ".Sh EXAMPLES\n"
            for (i, example) in examples.enumerated() {
                out += (i == 0 ? "" : ".Pp\n") + "\(escape(example.purpose)):\n.Bd -literal -offset indent\n"
                out += "roomkey \(escape(example.arguments))\n.Ed\n"
            }
        }
        return out
    }

    /// Rewrites every `roomkey*.1` page in `folder`: the generator's EXIT STATUS becomes the sections above.
    static func rewrite(folder: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        where name.hasPrefix("roomkey") && name.hasSuffix(".1") {
            let page = (folder as NSString).appendingPathComponent(name)
            let text = try String(contentsOfFile: page, encoding: .utf8)
            guard text.contains(generatedExitStatus) else { continue }
            let path = name.dropLast(2).split(separator: ".").dropFirst().map(String.init)
            // The generator ends a page without a final line break; the sections keep that.
            let sections = String(mdoc(for: path).dropLast())
            try text.replacingOccurrences(of: generatedExitStatus, with: sections).write(toFile: page, atomically: true, encoding: .utf8)
        }
    }

    /// Text safe in an mdoc line: a backslash is doubled, and a line never starts with a dot or an apostrophe.
    static func escape(_ text: String) -> String {
        let doubled = text.replacingOccurrences(of: "\\", with: "\\e")
        return doubled.hasPrefix(".") || doubled.hasPrefix("'") ? "\\&" + doubled : doubled
    }
}
