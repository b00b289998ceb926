import ArgumentParser

/// How argv names a subcommand: global options given before it are moved after it, a parse error is tied to the
/// subcommand it belongs to, and a mistyped subcommand name gets the closest real ones.
enum CommandPath {
    /// The options of `GlobalOptions`, each with whether it takes a value.
    static let globalOptions: [String: Bool] = [
        "--keyring": true, "--passphrase-file": true, "--passphrase-fd": true,
        "--json": false, "-q": false, "--quiet": false, "--accept-rollback": false,
    ]

    /// Where a walk over argv ended: the subcommand names, its command type, and the index of the first argument
    /// that is not part of the path (or a global option before its end).
    struct Walk {
        var names: [String] = []
        var command: any ParsableCommand.Type
        var moved: [String] = []
        var rest: Int
    }

    /// The subcommands of `command` by name (aliases included).
    static func subcommands(of command: any ParsableCommand.Type) -> [String: any ParsableCommand.Type] {
        var table: [String: any ParsableCommand.Type] = [:]
        for sub in command.configuration.subcommands {
            table[sub._commandName] = sub
            for alias in sub.configuration.aliases { table[alias] = sub }
        }
        return table
    }

    /// Follows subcommand names from the start of `arguments`, collecting global options (and their values) found
    /// on the way; stops at `--`, at the first other option, or at the first name that is not a subcommand.
    static func walk(_ arguments: [String], root: any ParsableCommand.Type) -> Walk {
        var walk = Walk(command: root, rest: 0)
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" { break }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if argument.hasPrefix("-"), let takesValue = globalOptions[name] {
                let inline = argument.contains("=")
                let count = takesValue && !inline ? 2 : 1
                guard i + count <= arguments.count else { break }
                walk.moved += arguments[i..<(i + count)]
                i += count
                continue
            }
            guard !argument.hasPrefix("-"), let sub = subcommands(of: walk.command)[argument] else { break }
            walk.names.append(argument)
            walk.command = sub
            i += 1
            walk.rest = i
        }
        walk.rest = i
        return walk
    }

    /// `arguments` with the global options given before (or between the words of) the subcommand moved to just after
    /// it: `--keyring K room list` becomes `room list --keyring K`. Everything after the subcommand is left as it is.
    static func reorder(_ arguments: [String], root: any ParsableCommand.Type) -> [String] {
        let walk = walk(arguments, root: root)
        return walk.names + walk.moved + arguments[walk.rest...]
    }

    /// The first plain argument after the subcommand path when that path has subcommands and the argument names
    /// none of them, e.g. `recieve` in `roomkey recieve x`.
    static func unknownSubcommand(_ arguments: [String], root: any ParsableCommand.Type) -> (walk: Walk, name: String)? {
        let walk = walk(arguments, root: root)
        guard !walk.command.configuration.subcommands.isEmpty, walk.rest < arguments.count else { return nil }
        let next = arguments[walk.rest]
        guard !next.hasPrefix("-"), next != "help" else { return nil }
        return (walk, next)
    }

    /// The subcommand names closest to `typed` (those at the smallest edit distance, with transpositions, at most three).
    static func suggestions(for typed: String, among names: [String]) -> [String] {
        let limit = max(1, min(3, typed.count / 3 + 1))
        let scored = names.filter { $0 != "help" }.map { ($0, distance(typed.lowercased(), $0)) }
            .filter { $0.1 <= limit || ($0.0.hasPrefix(typed.lowercased()) && typed.count >= 2) }
        guard let best = scored.map(\.1).min() else { return [] }
        return scored.filter { $0.1 == best }.map(\.0).sorted().prefix(3).map { $0 }
    }

    /// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }

    /// `roomkey room add` for a walk that ended at `room add`.
    static func display(_ walk: Walk) -> String {
        (["roomkey"] + walk.names).joined(separator: " ")
    }
}
