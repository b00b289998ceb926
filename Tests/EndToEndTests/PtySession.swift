import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built roomkey run on a new pseudo-terminal that is also its controlling terminal (`/dev/tty`), driven like a
/// person at a keyboard: wait for a prompt, wait until the terminal stops echoing, type a line.
final class PtySession {
    /// Errors setting up or driving the terminal.
    enum PtyError: Error { case open, timeout(String), closed(String) }

    private let process = Process()
    private let master: Int32
    /// Everything the process wrote to its terminal so far.
    private(set) var transcript = ""
    private var consumed = 0

    /// Starts roomkey with `arguments` on a new terminal; `env` is added to this process's environment, without any
    /// `ROOMKEY_*` variable of its own.
    init(_ arguments: [String], env: [String: String]) throws {
        // posix_openpt and ptsname are hidden from Swift's Glibc module; these are the Linux ioctls they wrap
        // (TIOCSPTLCK unlocks the new terminal, TIOCGPTN gives its number under /dev/pts).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else { throw PtyError.open }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw PtyError.open }
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        // setsid makes a new session; --ctty makes the terminal on its standard input the controlling one, so
        // roomkey's open("/dev/tty") finds it; --wait passes roomkey's exit status back.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["--wait", "--ctty", CLI.binary.path] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROOMKEY_") }.merging(env) { $1 }
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        try terminal.close()
    }

    deinit {
        if process.isRunning { process.terminate() }
        close(master)
    }

    /// Reads what the process wrote until `text` appears after what earlier calls consumed.
    func expect(_ text: String, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let rest = transcript.utf8.dropFirst(consumed)
            if let range = String(decoding: rest, as: UTF8.self).range(of: text) {
                let tail = String(decoding: rest, as: UTF8.self)
                consumed += tail[..<range.upperBound].utf8.count
                return
            }
            guard Date() < deadline else { throw PtyError.timeout("waiting for \(text.debugDescription) in \(transcript.debugDescription)") }
            guard readSome(wait: 100) else { throw PtyError.closed("waiting for \(text.debugDescription) in \(transcript.debugDescription)") }
        }
    }

    /// Types `line` and Return once the terminal no longer echoes, so the prompt's flush cannot discard it.
    func typeSecret(_ line: String, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var mode = termios()
        while tcgetattr(master, &mode) == 0, mode.c_lflag & tcflag_t(ECHO) != 0 {
            guard Date() < deadline else { throw PtyError.timeout("the terminal kept echoing") }
            _ = readSome(wait: 10)
        }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads to the end and returns roomkey's exit status with the whole transcript.
    func finish(timeout: TimeInterval = 120) throws -> (code: Int32, transcript: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while readSome(wait: 100) || process.isRunning {
            guard Date() < deadline else { throw PtyError.timeout("roomkey did not end: \(transcript.debugDescription)") }
        }
        process.waitUntilExit()
        return (process.terminationStatus, transcript)
    }

    /// Waits up to `wait` ms for output and appends it; false once the terminal is closed on the other side.
    private func readSome(wait: Int32) -> Bool {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, wait)
        if ready == 0 { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
        if n <= 0 { return false }
        transcript += String(decoding: buffer[..<n], as: UTF8.self)
        return true
    }
}
