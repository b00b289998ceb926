import Testing
@testable import RoomKeyCore

/// Suggested commands read back, through a POSIX shell, as exactly the names they were made from.
struct ShellWordTests {
    @Test(arguments: [
        ("team", "team"),
        ("bob@example.org", "bob@example.org"),
        ("ops $(touch /tmp/x)", "'ops $(touch /tmp/x)'"),
        ("Team Alpha", "'Team Alpha'"),
        ("it's", "'it'\\''s'"),
        ("`id`", "'`id`'"),
        ("-rf", "'-rf'"),
        ("=ls", "'=ls'"),
        ("a=b", "a=b"),
        ("", "''"),
        ("café", "'café'"),
    ])
    func quotesWhatAShellWouldRead(_ name: String, _ quoted: String) {
        #expect(ShellWord.quote(name) == quoted)
    }

    @Test func optionsGoBeforeADashedName() {
        #expect(ShellWord.command(["verify"], ["bob"], options: ["--confirm", "DIGITS"]) == "roomkey verify bob --confirm DIGITS")
        #expect(ShellWord.command(["verify"], ["-bob"], options: ["--confirm", "DIGITS"]) == "roomkey verify --confirm DIGITS -- '-bob'")
        #expect(ShellWord.command(["room", "replace"], ["a b", "carol"]) == "roomkey room replace 'a b' carol")
    }
}
