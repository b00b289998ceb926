#if canImport(Glibc)
import Glibc
#endif

/// Standard input, output and error as this process was started with them.
enum StandardStreams {
    /// Fills each of descriptors 0, 1 and 2 that the process was started without (closed, as `>&-` or a daemon leaves
    /// them) with /dev/null opened the other way round: a read of standard input, or a write to standard output or
    /// error, still fails with EBADF as on a closed descriptor, but no file roomkey opens later can take that number and
    /// receive what was meant for the stream (a hostile review: with standard output closed, `decrypt` wrote the
    /// plaintext into the keyring's lock file, the first file it opened, and used the message up). False when one
    /// could not be filled (no /dev/null), and then nothing may run.
    static func fillClosed() -> Bool {
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            // Standard input can only be written, the other two only read.
            let opened = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY)
            guard opened >= 0 else { return false }
            if opened != fd {
                guard dup2(opened, fd) == fd else { close(opened); return false }
                close(opened)
            }
        }
        return true
    }
}
