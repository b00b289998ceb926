import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

/// What `encrypt` and `decrypt` share when they handle several files in one run: where outputs go, how they are
/// written, one record per file, and the exit code of the whole run.
enum BatchFiles {
    /// The most input bytes read before a batch transaction runs (with at most `Keyring.messagesPerTransaction` files).
    static let maxBatchBytes = 64 * 1024 * 1024

    /// True when a command with these arguments runs in batch mode: several files, `--suffix`, or `-o` naming a folder.
    static func isBatch(files: [String], output: String?, suffix: String?) -> Bool {
        files.count > 1 || suffix != nil || output.map(isFolder) == true || output?.hasSuffix("/") == true
            || files.first.map(isFolder) == true
    }

    /// Files as given, folders expanded to their regular files in name order (hidden files skipped; a FIFO, socket,
    /// device or symbolic link is neither opened nor counted: a link planted in a shared folder would otherwise pull a
    /// file from anywhere, a secret included, into the room). A folder is also the cheap way to name many thousands of
    /// files: the argument parser's cost grows with the square of the number of arguments.
    /// An entry whose name is not valid UTF-8 is kept (with U+FFFD in place of its bad bytes), to fail in its own
    /// result (`unnamed`), never skipped without a word. `listed` holds the files found in a folder, which are opened
    /// without following a link (one swapped in after the listing is refused).
    static func expand(_ paths: [String]) -> (files: [String], unnamed: Set<String>, listed: Set<String>) {
        var unnamed = Set<String>(), listed = Set<String>()
        let files = paths.flatMap { path -> [String] in
            guard isFolder(path), let listing = try? FolderListing.entries(of: path) else { return [path] }
            let bad = listing.notUTF8.filter { !$0.hasPrefix(".") }.map { (path as NSString).appendingPathComponent($0) }
            unnamed.formUnion(bad)
            let found = listing.names.sorted().filter { !$0.hasPrefix(".") }
                .map { (path as NSString).appendingPathComponent($0) }
                .filter { var info = stat(); return lstat($0, &info) == 0 && info.st_mode & S_IFMT == S_IFREG }
            listed.formUnion(found)
            return found + bad.sorted()
        }
        return (files, unnamed, listed)
    }

    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The output path of every input, after checking the arguments: no standard input, `-o` an existing folder. An
    /// output that is one of the inputs, or that an earlier input already gets, is refused for that input alone
    /// (`refused`, by index; nothing is read for it): in a shared folder, anyone who can write there could otherwise
    /// stop every message's decryption by planting one file named like an output. `name` turns an input's file name
    /// into its output's.
    static func plan(files: [String], output: String?, suffix: String?,
                     name: (String) -> String) throws -> (outputs: [String], refused: [Int: BatchError]) {
        guard !files.isEmpty else { throw BatchError.usage("give the files to read: --suffix and -o FOLDER need at least one FILE") }
        if files.contains("-") { throw BatchError.usage("standard input ('-') cannot be one of several files") }
        if let suffix, suffix.isEmpty || suffix.contains("/") { throw BatchError.usage("--suffix must be a non-empty file name ending without '/'") }
        if let output, !isFolder(output) {
            throw BatchError.usage("-o must name an existing folder when several files, or --suffix, are given: \(output)")
        }
        let outputs = files.map { file -> String in
            let base = (file as NSString).lastPathComponent
            let named = suffix.map { base + $0 } ?? name(base)
            if let output { return (output as NSString).appendingPathComponent(named) }
            return (PathName.parent(file) as NSString).appendingPathComponent(named)
        }
        let inputs = Set(files.map(canonical))
        var seen = Set<String>()
        var refused: [Int: BatchError] = [:]
        for (i, out) in outputs.enumerated() {
            let key = canonical(out)
            if inputs.contains(key) {
                refused[i] = .outputIsInput(path: out)
            } else if !seen.insert(key).inserted {
                refused[i] = .sameOutput(path: out)
            }
        }
        return (outputs, refused)
    }

    /// The absolute form of `path` with `.`, `..` and repeated slashes removed, computed without touching the file
    /// system (symbolic links are not followed: thousands of paths must stay cheap).
    static func canonical(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : workingDirectory + "/" + path
        var parts: [Substring] = []
        for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static let workingDirectory = FileManager.default.currentDirectoryPath

    /// Refuses an output that exists, unless `force`, and a symbolic link at the output's name whatever `force` says
    /// (see `write`), before its input is read: a message is decrypted once, so it must not be spent on an output
    /// that will be refused.
    static func checkFree(_ path: String, force: Bool) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFLNK { throw OutputFileError.symbolicLink(path: path) }
            if !force { throw BatchError.outputExists(path: path) }
        }
        try OutputFile.refuseKeyring(path)
    }

    /// Writes one output file of a batch under the output-file rules (refused when it exists unless `force`), except
    /// that a symbolic link at the output's name is refused, never followed: the names are made from the inputs', so a
    /// link planted beside a message would choose where its plaintext goes. Files are
    /// renamed into place at once but made durable together, one file-system sync per `messagesPerTransaction` files
    /// and one at the end (`syncWritten`), not one fsync each.
    static func write(_ data: Data, to path: String, force: Bool) throws {
        try checkFree(path, force: force)
        try OutputPath.write(data, to: path, replace: force, durable: false, sweep: OutputFile.sweep, followLinks: false)
        unsynced.insert(OutputPath.folder(of: path))
        written += 1
        if written % Keyring.messagesPerTransaction == 0 { try syncWritten() }
    }

    /// Folders with batch outputs not yet synced, and how many outputs were written.
    nonisolated(unsafe) private static var unsynced: Set<String> = []
    nonisolated(unsafe) private static var written = 0

    /// Makes every batch output written so far durable.
    static func syncWritten() throws {
        for folder in unsynced { try OutputPath.syncFileSystem(of: folder) }
        unsynced = []
    }

    /// Writes secret bytes without copying them into memory that is not wiped.
    static func write(_ secret: borrowing SecretBytes, to path: String, force: Bool) throws {
        try secret.withUnsafeBytes { bytes in
            let data = bytes.baseAddress.map { Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none) }
            try write(data ?? Data(), to: path, force: force)
        }
    }

    /// The outcome for one file: its record in the JSON `results`, its text line, and its exit code.
    struct Record: Encodable {
        var path: String
        var status = "ok"
        var output: String?
        var error: String?
        var roomId: String?
        var name: String?
        var senderId: String?
        var senderHandle: String?
        var epoch: UInt64?
        var generation: UInt32?
        var iteration: UInt32?
        var bundle: String?

        private var hint: String?
        private var code: Int32 = ExitStatus.success

        init(path: String) { self.path = path }

        enum CodingKeys: String, CodingKey {
            case path, status, output, error, roomId, name, senderId, senderHandle, epoch, generation, iteration, bundle
        }

        /// Marks the file failed with `error`.
        mutating func fail(_ error: any Error) {
            let (category, message, hint) = Output.describe(error)
            status = category.rawValue
            self.error = Output.oneLine(message, keepingLineFeeds: true)
            self.hint = hint
            code = ExitStatus.code(for: category)
        }

        var exitCode: Int32 { code }

        /// The text line of this file.
        var line: String {
            if let error { return "\(status)  \(path): \(error)" }
            var text = "ok  \(path)"
            if let output { text += " -> \(output)" }
            // Handles and room names are chosen by others: the ids beside them tell two senders or rooms of one name apart,
            // and the quotes (a quote inside doubled) where a name ends, so that no name spells an attribution of its own.
            let room = name.map { n in roomId.map { "\(SafeText.quotedList([n])) (\($0.prefix(MemberNames.shortIDDigits)))" } ?? SafeText.quotedList([n]) }
            if let senderHandle, let room {
                text += "  from \(SafeText.quotedList([senderHandle]))" + (senderId.map { " (\($0.prefix(MemberNames.shortIDDigits)))" } ?? "") + " in room \(room)"
            } else if let room { text += "  room \(room)" }
            if let epoch, let iteration { text += ", epoch \(epoch), message \(iteration)" }
            return text
        }

        /// The error lines of a failed file on standard error.
        func reportError() {
            guard let error else { return }
            Output.stderr("roomkey: error: \(path): \(error)")
            if let hint { Output.stderr("roomkey: hint: \(hint)") }
        }
    }

    /// Prints the records (text lines, or one JSON document) and the errors, and ends with the worst exit code.
    static func finish(_ records: [Record], _ out: Output) throws {
        try syncWritten()
        out.result(["results": records]) { records.map(\.line) }
        for record in records { record.reportError() }
        let code = ExitStatus.worst(records.map(\.exitCode))
        if code != ExitStatus.success { throw ExitCode(code) }
    }
}

/// Errors of the batch forms of `encrypt` and `decrypt`.
enum BatchError: RoomKeyError {
    case usage(String)
    case outputExists(path: String)
    case plaintextNotWritten(output: String, reason: String)
    case messageNotWritten(output: String, iteration: UInt32, reason: String)
    /// The input's output would replace another input file.
    case outputIsInput(path: String)
    /// An earlier input of the same run gets the same output.
    case sameOutput(path: String)

    var category: ErrorCategory {
        switch self {
        case .usage: .usage
        case .outputExists, .outputIsInput, .sameOutput: .refused
        case .plaintextNotWritten, .messageNotWritten: .failure
        }
    }

    var message: String {
        switch self {
        case let .usage(text): text
        case let .outputExists(path): "\(path) exists; nothing was read for it"
        case let .outputIsInput(path): "the output \(path) would replace an input file; nothing was read for it"
        case let .sameOutput(path): "another input of this run is written to \(path); nothing was read for it"
        case let .plaintextNotWritten(output, reason):
            "the plaintext could not be written to \(output) (\(reason)); the message was not used up"
        case let .messageNotWritten(output, iteration, reason):
            "the message (iteration \(iteration)) could not be written to \(output) (\(reason)); that iteration is used up"
        }
    }

    var hint: String? {
        switch self {
        case .outputExists: "remove it, choose another -o folder or --suffix, or give --force to replace it"
        case .messageNotWritten: "encrypt the file again"
        case .plaintextNotWritten: "fix the cause, then decrypt it again"
        case .outputIsInput, .sameOutput: "choose another -o folder or --suffix"
        case .usage: nil
        }
    }
}

/// Keeps long file lists away from the argument parser, whose cost grows with the square of the number of values of
/// an array argument (10,000 files: seconds). For `encrypt` and `decrypt` with many arguments, every plain argument
/// that follows two plain arguments is certainly one of the FILEs (an option takes one value, and `encrypt` one ROOM),
/// so each run of them is replaced by one placeholder before parsing and put back by `restore`.
enum ArgumentStash {
    nonisolated(unsafe) private static var runs: [String: [String]] = [:]
    private static let marker = "\u{1}roomkey-files-"

    /// The arguments to parse (after the program name).
    static func collapse(_ arguments: [String]) -> [String] {
        guard arguments.count > 64, let command = arguments.first, ["encrypt", "decrypt"].contains(command) else { return arguments }
        var out: [String] = []
        var plainRun = 0
        var terminated = false
        for argument in arguments {
            let plain = terminated || !argument.hasPrefix("-") || argument == "-"
            if argument == "--", !terminated { terminated = true; plainRun = 0; out.append(argument); continue }
            guard plain else { plainRun = 0; out.append(argument); continue }
            plainRun += 1
            if plainRun <= 2 { out.append(argument); continue }
            if plainRun == 3 {
                let key = marker + String(runs.count)
                runs[key] = []
                out.append(key)
            }
            runs[marker + String(runs.count - 1), default: []].append(argument)
        }
        return out
    }

    /// The FILEs as given on the command line.
    static func restore(_ files: [String]) -> [String] {
        guard !runs.isEmpty else { return files }
        return files.flatMap { runs[$0] ?? [$0] }
    }
}
