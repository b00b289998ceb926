/// Words of a shell command that roomkey suggests (in hints, and the `replace_command` of `--json`), written so that a
/// POSIX shell reads each back exactly: a room or contact name is chosen by someone else, and `$(...)`, a space or a
/// quote in it must stay part of the name, never become shell syntax.
public enum ShellWord {
    /// `text` unchanged when it is only letters, digits and `@%+=:,./_-` (and starts with neither `-` nor `=`, which
    /// zsh expands to a command's path), else in single quotes, each `'` written `'"'"'`. No backslash is used: a
    /// terminal line doubles every backslash (`SafeText.escaped`), and `'\''` shown as `'\\''` ended the quoting, so a
    /// hint pasted into a shell ran what a name held after its quote (a hostile review).
    public static func quote(_ text: String) -> String {
        let plain = !text.isEmpty && !text.hasPrefix("-") && !text.hasPrefix("=") && text.unicodeScalars.allSatisfy { s in
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || "@%+=:,./_-".unicodeScalars.contains(s))
        }
        if plain { return text }
        return "'" + text.replacingAll("'", with: "'\"'\"'") + "'"
    }

    /// How a command names a room or contact in a suggested command: by `name`, or by `id` when the name holds a
    /// character that a line of text shows escaped (`SafeText.escaped`), since the escaped form names nothing (a review:
    /// a received room name with U+2028 gave a hint that, pasted, exited 4). Commands take an id wherever they take a name.
    public static func reference(_ name: String, id: String) -> String {
        SafeText.escaped(name) == name ? name : id
    }

    /// `roomkey`, `words` (the subcommand, written as it is), each of `names` quoted, then `options` (written as they
    /// are). When a name starts with `-` the options come before the names, after them `--`, so no name reads as an option.
    public static func command(_ words: [String], _ names: [String], options: [String] = []) -> String {
        let tail = names.contains { $0.hasPrefix("-") } ? options + ["--"] + names.map(quote) : names.map(quote) + options
        return (["roomkey"] + words + tail).joined(separator: " ")
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
