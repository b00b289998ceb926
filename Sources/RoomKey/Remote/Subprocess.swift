import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, its standard input, output and error sockets (input written without
/// SIGPIPE). Unlike Foundation's `Process` it keeps this process's inheritable descriptors open in the child, so a git
/// child holds the sync lock (`SyncLock`) for as long as it runs, even when roomkey itself is killed.
final class Subprocess: @unchecked Sendable {
    /// The child's process id.
    let pid: pid_t
    /// Where the child's standard input is written (-1 once closed).
    private(set) var input: Int32
    /// The child's standard output.
    let output: Int32
    /// The child's standard error.
    let errors: Int32
    private let state = NSLock()
    private var reaped = false

    /// Starts `path` with `args` and exactly `env`; throws when it cannot be started.
    init(_ path: String, _ args: [String], env: [String: String]) throws {
        var sock: [Int32] = [-1, -1], out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &sock) == 0 else { throw Self.failure("socketpair") }
        guard socketpair(AF_UNIX, kind, 0, &out) == 0 else { Self.closeAll(sock); throw Self.failure("socketpair") }
        guard socketpair(AF_UNIX, kind, 0, &err) == 0 else { Self.closeAll(sock + out); throw Self.failure("socketpair") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, sock[1], 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        // Its own session (POSIX_SPAWN_SETSID, 0x80 in glibc): no controlling terminal, so neither git nor ssh can
        // prompt while the sync lock is held, and its own process group, so a timeout kills git and its helpers.
        posix_spawnattr_setflags(&attr, Int16(truncatingIfNeeded: POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | 0x80))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, &attr, argv, envp)
        Self.closeAll([sock[1], out[1], err[1]])
        guard status == 0 else {
            Self.closeAll([sock[0], out[0], err[0]])
            throw RemoteError.git(command: "start", reason: "cannot run \(path): \(String(cString: strerror(status)))")
        }
        pid = child
        SyncLock.noteChild(child)
        input = sock[0]
        output = out[0]
        errors = err[0]
    }

    /// Writes all of `data` to the child's standard input; false when the child stopped reading.
    @discardableResult
    func write(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return true }
            var done = 0
            while done < raw.count {
                let n = send(input, base + done, raw.count - done, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
    }

    /// Closes the child's standard input (it then sees the end of its input).
    func closeInput() {
        state.lock()
        defer { state.unlock() }
        if input >= 0 { close(input) }
        input = -1
    }

    /// Reads up to `count` bytes of standard output into `buffer`; 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        while true {
            let n = Glibc.read(output, buffer, count)
            if n < 0 && errno == EINTR { continue }
            return max(n, 0)
        }
    }

    /// Kills the child and its process group (SIGKILL) unless it was already waited for.
    func kill() {
        state.lock()
        defer { state.unlock() }
        if !reaped { _ = Glibc.kill(-pid, SIGKILL) }
    }

    /// Waits for the child to end (standard error is left to its reader to close); its exit status, or 128 + the
    /// signal that ended it.
    func wait() -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        state.lock()
        reaped = true
        state.unlock()
        SyncLock.noteChild(0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        Self.closeAll([output])
        closeInput()
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    private static func closeAll(_ fds: [Int32]) { for fd in fds where fd >= 0 { close(fd) } }

    private static func failure(_ what: String) -> RemoteError {
        .git(command: "start", reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
