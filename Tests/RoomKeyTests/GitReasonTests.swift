import Foundation
import Testing
@testable import RoomKey

/// What a failed git run is reported as: the line that says what failed, not the tail of a hint (a review: a push
/// refused by the server's hook, over ssh, read "git push failed: and the repository exists.").
struct GitReasonTests {
    static func result(_ stderr: String, status: Int32 = 128) -> Git.Result { Git.Result(status: status, stdout: Data(), stderr: stderr) }

    @Test func theFatalLineIsTheReason() {
        let stderr = """
            remote: refusing this push
            fatal: Could not read from remote repository.

            Please make sure you have the correct access rights
            and the repository exists.
            """
        #expect(Git.reason(Self.result(stderr)) == "fatal: Could not read from remote repository.")
    }

    @Test func withoutOneTheLastLineIsTheReason() {
        #expect(Git.reason(Self.result("warning: x\n  something went wrong  \n\n")) == "something went wrong")
        #expect(Git.reason(Self.result("", status: 3)) == "exit 3")
    }
}
