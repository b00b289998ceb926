import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private typealias stat_struct = stat

/// An exclusive lock on one keyring's syncs (an `flock` on the keyring's path + `.sync.lock`), so two syncs of it take
/// turns whatever their remote or state folder. The descriptor is inherited by git children (no `O_CLOEXEC`), so a git
/// left running by a killed sync keeps the lock until it ends, and no new sync works on the mirror beside it. A sync
/// that ends normally unlocks explicitly.
///
/// The file says who holds it: `roomkey PID git PGID` (the process group of the git child running, 0 between them).
/// A sync that finds the lock taken by a roomkey that is gone (killed, or interrupted while git stalled: git runs in a
/// session of its own and outlives it) kills that git's process group and takes the lock, instead of waiting without a
/// word for a git that may never end (found by a hostile review). A live holder is waited for, at most `maximumWait`.
final class SyncLock {
    private let fd: Int32

    /// How long a sync waits for another live one: git's own limit (`Git.defaultTimeout`) and a minute more.
    static let maximumWait: TimeInterval = Git.defaultTimeout + 60

    /// The lock file of the keyring at `keyring`.
    static func path(keyring: String) -> String { keyring + ".sync.lock" }

    /// The descriptors of the locks this process holds, which learn of each git child started.
    private static let held = Mutex<[Int32]>([])

    /// Waits for and takes the lock file at `path` (created mode 0600, its folder 0700).
    init(path: String, maximumWait: TimeInterval = SyncLock.maximumWait) throws {
        let folder = PathName.parent(path)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        fd = open(path, O_CREAT | O_RDWR | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw RemoteError.git(command: "lock", reason: "cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = ProcessInfo.processInfo.systemUptime + maximumWait  // monotonic: a clock step does not stretch it
        var ended: Set<pid_t> = []
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let failed = errno
            if failed == EINTR { continue }
            guard failed == EWOULDBLOCK else {
                close(fd)
                throw RemoteError.git(command: "lock", reason: "cannot lock \(path): \(String(cString: strerror(failed)))")
            }
            let holder = Self.holder(fd)
            if let holder, Self.isGone(holder.roomkey), !ended.contains(holder.git), Self.isOrphanedGit(holder.git, holding: fd) {
                // Its roomkey is gone: nothing will read what that git does. Ending its group frees the lock (once).
                ended.insert(holder.git)
                _ = kill(-holder.git, SIGKILL)
            }
            if ProcessInfo.processInfo.systemUptime > deadline {
                close(fd)
                let who = holder.map { "roomkey process \($0.roomkey)" } ?? "another process"
                throw RemoteError.git(command: "lock", reason: "another sync of this keyring (\(who)) still holds \(path)")
            }
            usleep(50_000)
        }
        Self.record(fd, git: 0)
        Self.held.withLock { $0.append(fd) }
    }

    /// Releases the lock, also for any process that inherited it (every git child of this sync has ended by then; a
    /// helper git left running in the background, such as a credential cache, must not keep later syncs waiting).
    func release() {
        Self.held.withLock { $0.removeAll { $0 == fd } }
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Notes in every lock this process holds that the git child `group` runs now (0: none).
    static func noteChild(_ group: pid_t) {
        held.withLock { fds in for fd in fds { record(fd, git: group) } }
    }

    private static func record(_ fd: Int32, git: pid_t) {
        let text = Array("roomkey \(getpid()) git \(git)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// True when process `pid` no longer runs: absent, or a zombie its parent has not reaped yet.
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 { return errno == ESRCH }
        let line = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = line.lastIndex(of: ")") else { return false }
        return line[line.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// True when `group` is what this lock's git child would be once its roomkey is gone: a session of its own led by
    /// a process named git (`Subprocess` starts each git with `setsid`), owned by this user, whose leader holds a
    /// descriptor of this very lock file (`lock`: it inherited it), and never this process's own group nor a pid of 1
    /// or less. The lock file may name anything (a stale record, a reused pid, a file someone else wrote): nothing else
    /// is ever killed (a review killed an unrelated git by naming it).
    static func isOrphanedGit(_ group: pid_t, holding lock: Int32) -> Bool {
        guard group > 1, group != getpgrp(), group != getpid(),
              let line = try? String(contentsOfFile: "/proc/\(group)/stat", encoding: .utf8),
              let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") else { return false }
        let name = line[line.index(after: open)..<close]
        let fields = line[line.index(after: close)...].split(separator: " ")
        // state, ppid, pgrp, session
        guard name == "git" || name.hasPrefix("git-"), fields.count > 3, fields[2] == "\(group)", fields[3] == "\(group)" else { return false }
        var info = stat_struct(), mine = stat_struct()
        guard lstat("/proc/\(group)", &info) == 0, info.st_uid == getuid(), fstat(lock, &mine) == 0 else { return false }
        let folder = "/proc/\(group)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return descriptors.contains { entry in
            var target = stat_struct()
            return stat(folder + "/" + entry, &target) == 0 && target.st_dev == mine.st_dev && target.st_ino == mine.st_ino
        }
    }

    /// Who the lock file says holds it, when it says so and the file is this user's own.
    private static func holder(_ fd: Int32) -> (roomkey: pid_t, git: pid_t)? {
        var info = stat_struct()
        guard fstat(fd, &info) == 0, info.st_uid == getuid() else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 64, 0) }
        guard n > 0 else { return nil }
        let words = String(decoding: buffer.prefix(n), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 4, words[0] == "roomkey", words[2] == "git", let r = pid_t(words[1]), let g = pid_t(words[3]), r > 1 else { return nil }
        return (r, g)
    }
}
