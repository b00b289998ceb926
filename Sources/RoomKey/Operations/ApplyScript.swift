import RoomKeyCore
/// A batch membership script: one change a line, `VERB ROOM [ARG...]`, `#` starts a comment.
///
/// Verbs: `create ROOM [CONTACT...]`, `add ROOM [--if-missing] CONTACT...`, `remove ROOM [--if-present] MEMBER...`,
/// `promote ROOM MEMBER...`, `demote ROOM MEMBER...`, `rotate ROOM`, `replace ROOM CONTACT...` (swap a changed key),
/// `members ROOM NAME... [--admins NAME...]` (the roster made exactly so; you stay). Words are separated by spaces or tabs.
public struct ApplyScript: Sendable, Equatable {
    /// One parsed line.
    public struct Line: Sendable, Equatable {
        /// The 1-based line number in the script.
        public let number: Int
        /// The verb.
        public let verb: Verb
        /// The room's name or id.
        public let room: String
        /// The contacts or members the verb takes.
        public let arguments: [String]
        /// `add --if-missing` or `remove --if-present`: skip what is already so.
        public var ifNeeded = false
        /// For `members`: the names after `--admins` (nil without it).
        public var admins: [String]? = nil
    }

    /// The verbs a script may use.
    public enum Verb: String, Sendable, CaseIterable {
        case create, add, remove, promote, demote, rotate, replace, members
    }

    /// The changes, in script order.
    public let lines: [Line]

    /// The most lines a script may hold.
    public static let maxLines = 1_000_000

    /// The most names (members, contacts) a script may give in all.
    public static let maxNames = 1_000_000

    /// The words of a line before its comment. A `#` starts a comment only at the start of a word (a review: `#` is
    /// valid in names, and `add proj carol#work` added the contact "carol"); words are split on spaces and tabs.
    static func words(_ scalars: Substring.UnicodeScalarView) -> [String] {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        for scalar in scalars {
            if scalar == " " || scalar == "\t" {
                if !word.isEmpty { words.append(String(word)); word = String.UnicodeScalarView() }
            } else if scalar == "#", word.isEmpty {
                break
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words
    }

    /// Parses a script; the first bad line throws `ScriptError` naming it.
    public init(parsing text: String) throws(ScriptError) {
        var lines: [Line] = []
        var names = 0
        // Lines end at a line feed, a carriage return, or both (one character in Swift), as editors count them: a
        // vertical tab, form feed or U+2028 inside a line made the numbers in errors name other lines. A lone carriage
        // return still ends a line (old Mac files), and so never sits inside a word, where a write back would join it
        // with the next line feed (found by Fuzz/FuzzApplyScript).
        for (index, raw) in TextLines(text, endsAt: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            let number = index + 1
            if raw.isEmpty { continue }
            // Comments and words are split on Unicode scalars, not characters: a space or `#` followed by a combining
            // mark is one character, and must still separate (found by Fuzz/FuzzApplyScript).
            let scalars = raw.unicodeScalars
            let words = Self.words(scalars)
            guard let first = words.first else { continue }
            if lines.count == Self.maxLines { throw .line(number, "the script has more than \(Self.maxLines) changes") }
            guard let verb = Verb(rawValue: first) else {
                throw .line(number, "unknown verb \"\(first)\" (expected \(Verb.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard words.count >= 2 else { throw .line(number, "\(verb.rawValue) needs a room") }
            var args = Array(words.dropFirst(2))
            let flag = verb == .add ? "--if-missing" : (verb == .remove ? "--if-present" : nil)
            let ifNeeded = flag.map { args.contains($0) } ?? false
            if let flag { args.removeAll { $0 == flag } }
            var admins: [String]?
            if verb == .members, let i = args.firstIndex(of: "--admins") {
                admins = Array(args[(i + 1)...])
                args = Array(args[..<i])
            }
            // Every name is looked up and planned: bounded over the script (a review: one line of 400,000 names took
            // 1.1 GB), and per line below, members and admins each as a room is. Names only: `--if-missing`,
            // `--if-present` and `--admins` are not members (review r counted them).
            names += args.count + (admins?.count ?? 0)
            if names > Self.maxNames { throw .line(number, "the script names more than \(Self.maxNames) members in all") }
            if max(args.count, admins?.count ?? 0) > Roster.maxMembers {
                throw .line(number, "more than \(Roster.maxMembers) names on one line (a room holds at most that many members)")
            }
            if let option = (args + (admins ?? [])).first(where: { $0.hasPrefix("--") }) {
                throw .line(number, "unknown option \"\(option)\" for \(verb.rawValue)")
            }
            if [.add, .remove, .promote, .demote, .replace].contains(verb), args.isEmpty {
                throw .line(number, "\(verb.rawValue) needs at least one \([.add, .replace].contains(verb) ? "contact" : "member")")
            }
            if verb == .rotate, !args.isEmpty { throw .line(number, "rotate takes only a room") }
            lines.append(Line(number: number, verb: verb, room: words[1], arguments: args, ifNeeded: ifNeeded, admins: admins))
        }
        self.lines = lines
    }
}

/// A script line that cannot be applied; nothing in the script is applied.
public enum ScriptError: Error, Equatable, Sendable {
    /// Line `number` is wrong, for the reason given.
    case line(Int, String)
    /// Line `number` is a valid line the keyring cannot apply (a rule refuses it, it names a room or contact that is
    /// not here, the room is forked, ...), for the reason given, with the category and next step of the direct command.
    case failed(Int, String, category: ErrorCategory, hint: String?)
}

extension ScriptError: RoomKeyError {
    /// A bad line is malformed input (exit 65); any other failure has the category the direct command gives it
    /// (DESIGN §5: the same mistake gets the same code from a direct command and from `apply`).
    public var category: ErrorCategory {
        switch self {
        case .line: .malformed
        case let .failed(_, _, category, _): category
        }
    }
    /// A one-line description naming the line.
    public var message: String {
        switch self {
        case let .line(number, why), let .failed(number, why, _, _): "line \(number): \(why)"
        }
    }
    /// The next step.
    public var hint: String? {
        switch self {
        case .line: "nothing was applied; fix the line and run the script again"
        case let .failed(_, _, category, hint):
            "nothing was applied; " + (hint ?? (category == .refused ? "change the line and run the script again" : "fix the line and run the script again"))
        }
    }
}
