import Foundation
import Testing

/// A read that fails (EIO) names the file and the system's reason (a hostile review found the raw Foundation text,
/// `error Domain=NSPOSIXErrorDomain Code=5 "Input/output error"`, without the path). /proc/self/mem read from its start
/// fails with EIO on Linux.
@Suite struct InputReadErrorCLITests {
    @Test(arguments: [["contact", "add"], ["decrypt"]])
    func aFailedReadNamesTheFile(command: [String]) throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.roomkey("alice", command + ["/proc/self/mem"]).expect(exit: 1, stderr: """
            roomkey: error: cannot read /proc/self/mem: input/output error

            """)
    }

    /// `receive` reports it as that input's result (malformed), as every input of a run fails alone (DESIGN 5).
    @Test func aFailedReadInReceiveIsThatInputsResult() throws {
        let s = try Sandbox()
        try s.person("alice")
        try s.roomkey("alice", ["receive", "/proc/self/mem"]).expect(exit: 65, stderr: """
            roomkey: error: /proc/self/mem: input is invalid: cannot be read: input/output error

            """)
    }
}
