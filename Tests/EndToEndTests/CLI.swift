import Foundation
import Testing

/// What one run of the `roomkey` binary produced.
struct Run: CustomStringConvertible {
    let code: Int32
    let stdout: String
    let stderr: String

    /// Parses stdout as one JSON object.
    func json() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(value as? [String: Any], "stdout is not a JSON object: \(stdout)")
    }

    var description: String { "exit \(code)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Locates and runs the built `roomkey` executable.
enum CLI {
    /// The executable: `$ROOMKEY_BIN`, else beside the test bundle in the build products folder.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["ROOMKEY_BIN"] { return URL(fileURLWithPath: path) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("roomkey")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/roomkey")
    }()

    /// This test process's `XDG_STATE_HOME`, removed when the process exits.
    static let stateHome: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-e2e-state-\(getpid())").path
        atexit { try? FileManager.default.removeItem(atPath: CLI.stateHome) }
        return path
    }()

    /// Runs roomkey with `arguments`, an environment cleared of roomkey's variables plus `env`, and `stdin`. With
    /// `shell`, through `/bin/sh -c 'SETUP exec roomkey ARGS REDIRECTIONS'` (a limit set, a stream closed).
    static func run(_ arguments: [String], env: [String: String] = [:], stdin: Data? = nil, cwd: URL? = nil,
                    shell: (setup: String, redirections: String)? = nil) throws -> Run {
        let process = Process()
        if let shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\(shell.setup) exec \"$0\" \"$@\" \(shell.redirections)", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }
        // State files (rollback detection) go to a folder of this test process, never the user's own.
        environment["XDG_STATE_HOME"] = stateHome
        environment.merge(env) { $1 }
        process.environment = environment
        if let cwd { process.currentDirectoryURL = cwd }
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Drain stderr on another thread so a full pipe cannot block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errBox.data = error.fileHandleForReading.readDataToEndOfFile() }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return Run(code: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A temporary folder with named keyrings, removed when the sandbox ends.
final class Sandbox {
    let root: URL
    let passphraseFile: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        passphraseFile = root.appendingPathComponent("passphrase")
        try Data("correct horse battery staple\n".utf8).write(to: passphraseFile)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// The keyring path of `name`.
    func keyring(_ name: String) -> String { root.appendingPathComponent("\(name)/keyring.sqlite").path }

    /// A path inside the sandbox.
    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Runs roomkey as `name`: its keyring and, if `passphrase`, the shared passphrase file.
    func roomkey(_ name: String, _ arguments: [String], passphrase: Bool = false, stdin: Data? = nil,
                 env: [String: String] = [:], shell: (setup: String, redirections: String)? = nil) throws -> Run {
        // Each sandbox has its own state folder: its keyrings are copies of nothing outside it.
        var extra = ["ROOMKEY_KEYRING": keyring(name), "XDG_STATE_HOME": path("state")]
        if passphrase { extra["ROOMKEY_PASSPHRASE_FILE"] = passphraseFile.path }
        return try CLI.run(arguments, env: extra.merging(env) { $1 }, stdin: stdin, cwd: root, shell: shell)
    }

    /// Creates a keyring without a passphrase for `name` and returns its card text.
    @discardableResult
    func person(_ name: String) throws -> String {
        let r = try roomkey(name, ["init", "--name", name, "--no-passphrase", "-q"])
        #expect(r.code == 0, "\(r)")
        let card = try roomkey(name, ["id", "export"])
        return card.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every byte of a keyring's database files (main, -wal, -shm).
    func rawBytes(of name: String) -> Data {
        ["", "-wal", "-shm"].reduce(into: Data()) { all, suffix in
            if let d = FileManager.default.contents(atPath: keyring(name) + suffix) { all.append(d) }
        }
    }
}
