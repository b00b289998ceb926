import Testing
@testable import RoomKey

/// `PathName.parent` gives what `NSString.deletingLastPathComponent` gives, without trapping on a one-character name.
@Suite struct PathNameTests {
    static let cases: [(String, String)] = [
        ("b", ""), ("é", ""), ("ab", ""), ("/b", "/"), ("/", "/"), ("//", "/"), ("/a/b", "/a"), ("a/b", "a"), ("a/b/", "a"),
        ("a//b", "a"), ("/a//b/", "/a"), ("./b", "."), ("../b", ".."), ("/tmp/x/keyring.sqlite", "/tmp/x"), ("", ""),
    ]

    @Test(arguments: cases) func parentOf(_ path: String, _ expected: String) {
        #expect(PathName.parent(path) == expected)
    }
}
