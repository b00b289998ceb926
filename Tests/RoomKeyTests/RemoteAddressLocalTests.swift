import Testing
@testable import RoomKey

/// Which URLs git serves by running its server programs on this machine (these get hooks and settings turned off).
struct RemoteAddressLocalTests {
    @Test(arguments: [
        ("/srv/git/team.git", true),
        ("../team.git", true),
        ("team.git", true),
        ("file:///srv/git/team.git", true),
        ("FILE:///srv/git/team.git", true),
        ("./dir:with/colon.git", true),
        ("git@example.org:team.git", false),
        ("example.org:/srv/team.git", false),
        ("ssh://git@example.org/team.git", false),
        ("https://example.org/team.git", false),
    ])
    func tellsALocalRepositoryFromARemoteOne(_ url: String, _ local: Bool) {
        #expect(RemoteAddress.isLocal(url) == local)
    }
}
