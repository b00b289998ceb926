import Foundation
import Testing

/// Transcript checks in the style of age's cmd/age/testdata: a command, the exact standard error, the exit code.
extension Run {
    /// Expects exactly this exit code and standard error (and standard output when given).
    @discardableResult
    func expect(exit code: Int32, stderr: String, stdout: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Run {
        #expect(self.code == code, "\(self)", sourceLocation: sourceLocation)
        #expect(self.stderr == stderr, "\(self)", sourceLocation: sourceLocation)
        if let stdout { #expect(self.stdout == stdout, "\(self)", sourceLocation: sourceLocation) }
        return self
    }
}

extension Sandbox {
    /// Runs roomkey with exactly `arguments` (no ROOMKEY_KEYRING), in the sandbox, for commands that name the keyring.
    func bare(_ arguments: [String], env: [String: String] = [:], stdin: Data? = nil) throws -> Run {
        try CLI.run(arguments, env: ["XDG_STATE_HOME": path("state")].merging(env) { $1 }, stdin: stdin, cwd: root)
    }
}
