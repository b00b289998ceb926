import Foundation

/// Runs the system `git` (found on PATH) with arguments as an array, never through a shell, with prompts off and a
/// fixed author so that commits carry nothing personal.
struct Git {
    /// The repository (a bare mirror) every command runs in.
    let directory: String

    /// What one git run produced.
    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// The git executable on PATH, or nil.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/git"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Author and committer of every commit roomkey makes, and the date it gives them (fixed: a commit tells nothing).
    static let identity = [
        "GIT_AUTHOR_NAME": "roomkey", "GIT_AUTHOR_EMAIL": "roomkey@invalid", "GIT_AUTHOR_DATE": "1577836800 +0000",
        "GIT_COMMITTER_NAME": "roomkey", "GIT_COMMITTER_EMAIL": "roomkey@invalid", "GIT_COMMITTER_DATE": "1577836800 +0000",
    ]

    /// Runs `git -C directory args...`; `input` goes to standard input. Throws only when git cannot be started.
    func run(_ args: [String], input: Data? = nil, env extra: [String: String] = [:]) throws -> Result {
        guard let git = Git.executable else { throw RemoteError.gitMissing }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        process.arguments = ["-C", directory] + args
        var env = ProcessInfo.processInfo.environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"
        env["GIT_DIR"] = nil
        env["GIT_INDEX_FILE"] = nil
        env.merge(Git.identity) { $1 }
        env.merge(extra) { $1 }
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch { throw RemoteError.git(command: args.first ?? "", reason: "\(error)") }
        final class Box: @unchecked Sendable { var data = Data() }
        let err = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { err.data = stderr.fileHandleForReading.readDataToEndOfFile() }
        let writer = stdin.fileHandleForWriting
        if let input {
            DispatchQueue.global().async(group: group) {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        } else {
            try? writer.close()
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: out, stderr: String(decoding: err.data, as: UTF8.self))
    }

    /// Runs git and returns its standard output; a non-zero exit throws with git's own last line.
    @discardableResult
    func check(_ args: [String], input: Data? = nil, env: [String: String] = [:]) throws -> Data {
        let r = try run(args, input: input, env: env)
        guard r.status == 0 else { throw RemoteError.git(command: args.first ?? "", reason: Git.reason(r)) }
        return r.stdout
    }

    /// The last non-empty line git wrote to standard error, or its exit status.
    static func reason(_ r: Result) -> String {
        let line = r.stderr.split(whereSeparator: \.isNewline).last.map(String.init)?.trimmingCharacters(in: .whitespaces)
        return (line?.isEmpty == false ? line : nil) ?? "exit \(r.status)"
    }

    /// Standard output as text without the final newline.
    static func text(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
