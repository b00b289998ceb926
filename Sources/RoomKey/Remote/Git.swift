import Foundation

/// Runs the system `git` (found on the absolute entries of PATH) with arguments as an array, never through a shell:
/// on an explicit `--git-dir` (no repository discovery), without a terminal, with a cleaned environment, no hooks, no
/// signing, a fixed author so that commits carry nothing personal, and a time limit.
struct Git {
    /// The repository (a bare mirror) every command runs in; nil for commands that take no repository (`init`).
    let directory: String?
    /// How long one git run may take before it and its process group are killed, in seconds.
    var timeout = Git.defaultTimeout

    /// What one git run produced.
    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// The time limit of a git run (15 minutes: a first fetch of a large repository over a slow link).
    static let defaultTimeout: Double = 900

    /// The git executable on PATH (absolute entries only: `.` or `bin` would run a git from the working folder), or nil.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where folder.hasPrefix("/") {
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

    /// Configuration given on every command line, over the user's: no hooks, no signing, received objects not fsck-ed
    /// (one malformed object pushed by a member would otherwise stop every member's fetch; nothing is checked out and every
    /// file is verified by roomkey itself),
    /// only the transports a remote URL may use (never `ext::`), and no maintenance left running in the background.
    static let safety: [String] = [
        "core.hooksPath=/dev/null", "push.gpgSign=false", "commit.gpgSign=false", "transfer.fsckObjects=false",
        "protocol.allow=never", "protocol.file.allow=always", "protocol.git.allow=always", "protocol.ssh.allow=always",
        "protocol.http.allow=always", "protocol.https.allow=always", "gc.autoDetach=false", "maintenance.autoDetach=false",
        "core.fsmonitor=false",
    ]

    /// The `GIT_*` variables a git child keeps (how to reach and authenticate to the server); every other one (a
    /// `GIT_DIR`, `GIT_CONFIG_*` or `GIT_OBJECT_DIRECTORY` set by a hook or a CI step) is removed.
    static let keptVariables: Set<String> = ["GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_ASKPASS", "GIT_PROXY_COMMAND",
                                             "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_TERMINAL_PROMPT"]

    /// The environment of a git child: this process's, cleaned of `GIT_*` except `keptVariables` and `GIT_SSL_*`, with
    /// prompts off, the C locale, the fixed identity and `extra`.
    static func environment(_ base: [String: String], extra: [String: String] = [:]) -> [String: String] {
        var env = base.filter { key, _ in !key.hasPrefix("GIT_") || keptVariables.contains(key) || key.hasPrefix("GIT_SSL_") }
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"
        env.merge(identity) { $1 }
        env.merge(extra) { $1 }
        return env
    }

    /// Runs `git --git-dir=directory -c … args…`; `input` goes to standard input; `options` are more `-c` values.
    /// `consume` reads standard output as it comes (default: all of it, returned in the result). Throws only when git
    /// cannot be started, ran out of time, or `consume` threw.
    func run(_ args: [String], input: Data? = nil, env extra: [String: String] = [:], options: [String] = [],
             consume: ((Subprocess) throws -> Data)? = nil) throws -> Result {
        guard let git = Git.executable else { throw RemoteError.gitMissing }
        let argv = (directory.map { ["--git-dir=" + $0] } ?? []) + (Git.safety + options).flatMap { ["-c", $0] } + args
        let child = try Subprocess(git, argv, env: Git.environment(ProcessInfo.processInfo.environment, extra: extra))
        final class Box: @unchecked Sendable { var data = Data(); var timedOut = false }
        let box = Box()
        let timer = DispatchWorkItem { box.timedOut = true; child.kill() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let errors = DispatchGroup(), writer = DispatchGroup()
        DispatchQueue.global().async(group: errors) { box.data = Git.tail(child.errors, keep: 64 * 1024) }
        if let input {
            DispatchQueue.global().async(group: writer) { child.write(input); child.closeInput() }
        } else {
            child.closeInput()
        }
        var out = Data()
        var failure: (any Error)?
        do { out = try consume?(child) ?? Git.readAll(child) ?? Data() } catch {
            failure = error
            child.kill()
        }
        writer.wait()
        let status = child.wait()
        timer.cancel()
        _ = errors.wait(timeout: .now() + 5)
        if let failure { throw failure }
        if box.timedOut { throw RemoteError.git(command: args.first ?? "", reason: "no answer within \(Int(timeout)) seconds") }
        return Result(status: status, stdout: out, stderr: String(decoding: box.data, as: UTF8.self))
    }

    /// Runs git and returns its standard output; a non-zero exit throws with git's own last line.
    @discardableResult
    func check(_ args: [String], input: Data? = nil, env: [String: String] = [:], options: [String] = []) throws -> Data {
        let r = try run(args, input: input, env: env, options: options)
        guard r.status == 0 else { throw RemoteError.git(command: args.first ?? "", reason: Git.reason(r)) }
        return r.stdout
    }

    /// All of a child's standard output, or nil as soon as it runs past `limit` bytes (the rest is left unread).
    static func readAll(_ child: Subprocess, limit: Int = .max) -> Data? {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in raw.baseAddress.map { child.read(into: $0, count: raw.count) } ?? 0 }
            if n == 0 { return data }
            if n > limit - data.count { return nil }
            data.append(contentsOf: chunk[0..<n])
        }
    }

    /// Reads `fd` to its end, keeping the last `keep` bytes, then closes it.
    static func tail(_ fd: Int32, keep: Int) -> Data {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            data.append(contentsOf: chunk[0..<n])
            if data.count > 2 * keep { data = data.suffix(keep) }
        }
        close(fd)
        return data.suffix(keep)
    }

    /// The first line git wrote to standard error that says what failed (`fatal:`, `error:`), else its last non-empty
    /// line, or its exit status. (The last line alone was the tail of a hint over several lines: "and the repository
    /// exists.")
    static func reason(_ r: Result) -> String {
        let lines = r.stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.first { $0.hasPrefix("fatal:") || $0.hasPrefix("error:") } ?? lines.last ?? "exit \(r.status)"
    }

    /// Standard output as text without the final newline.
    static func text(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
