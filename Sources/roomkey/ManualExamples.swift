/// The EXAMPLES of each man page, by command path (`room add`; the empty path is `roomkey` itself): what a person
/// types, with one line saying why. A test parses every example with the real command definitions.
enum ManualExamples {
    /// One example: what it does, and the command line after `roomkey`.
    struct Example {
        let purpose: String
        let arguments: String
    }

    static let byCommand: [String: [Example]] = [
        "": [
            .init(purpose: "Create your keyring with a new identity", arguments: "init --name alice"),
            .init(purpose: "Use another keyring for one command (global options go before or after the subcommand)",
                  arguments: "--keyring work.sqlite room list"),
            .init(purpose: "Apply every bundle in a synced folder", arguments: "receive ~/Sync/roomkey"),
        ],
        "init": [
            .init(purpose: "Create a keyring protected by a passphrase (asked twice)", arguments: "init --name alice"),
            .init(purpose: "Create one for a script, passphrase from a file", arguments: "init --name ci-bot --passphrase-file ~/.roomkey-pass"),
        ],
        "id": [.init(purpose: "Show your id and keys as JSON", arguments: "id --json")],
        "id show": [.init(purpose: "Show your id, handle and card", arguments: "id show")],
        "id export": [.init(purpose: "Write your identity card to a file", arguments: "id export -o alice.card")],
        "id upgrade": [.init(purpose: "Add a post-quantum key to your identity", arguments: "id upgrade")],
        "contact": [.init(purpose: "Add two cards at once", arguments: "contact add cards/bob.card cards/carol.card")],
        "contact add": [
            .init(purpose: "Add many cards at once (nothing is added if one is bad)", arguments: "contact add cards/bob.card cards/carol.card"),
            .init(purpose: "Add a card from standard input under another name", arguments: "contact add - --as robert"),
        ],
        "contact list": [.init(purpose: "List contacts as JSON", arguments: "contact list --json")],
        "contact show": [.init(purpose: "Show a contact's keys and key history", arguments: "contact show bob")],
        "contact accept": [.init(purpose: "Accept bob's changed key without verifying it", arguments: "contact accept bob")],
        "contact remove": [.init(purpose: "Remove a contact (rooms are not changed)", arguments: "contact remove bob")],
        "verify": [
            .init(purpose: "Show the safety number to compare with bob", arguments: "verify bob"),
            .init(purpose: "Mark bob verified once the digits match", arguments: "verify bob --confirm 123456789012345678901234567890123456789012345678901234567890"),
            .init(purpose: "Show the safety number as a QR code", arguments: "verify bob --qr"),
        ],
        "room": [.init(purpose: "Create a room with two members", arguments: "room create team --member bob --member carol")],
        "room create": [
            .init(purpose: "Create a room with two members", arguments: "room create team --member bob --member carol"),
            .init(purpose: "Create a room from a file of contact names", arguments: "room create team --members-file team.txt"),
        ],
        "room add": [
            .init(purpose: "Add two contacts", arguments: "room add team dave erin"),
            .init(purpose: "Add only those not yet in (a script can run it twice)", arguments: "room add team dave --if-missing"),
        ],
        "room remove": [
            .init(purpose: "Remove a member", arguments: "room remove team dave"),
            .init(purpose: "Remove only if still a member", arguments: "room remove team dave --if-present"),
        ],
        "room replace": [.init(purpose: "Swap bob's old key for his new, accepted one", arguments: "room replace team bob")],
        "room members": [
            .init(purpose: "Make the roster equal a file (adds, removes, one commit)", arguments: "room members team --members-file team.txt"),
            .init(purpose: "Show what would change", arguments: "room members team --members-file team.txt --admins-file admins.txt --dry-run"),
        ],
        "room promote": [.init(purpose: "Make bob an admin", arguments: "room promote team bob")],
        "room demote": [.init(purpose: "Make bob a plain member again", arguments: "room demote team bob")],
        "room leave": [.init(purpose: "Leave a room", arguments: "room leave team")],
        "room rejoin": [.init(purpose: "Take back a room you left, then receive the bundle that adds you back",
                              arguments: "room rejoin team")],
        "room rotate": [.init(purpose: "Start a new epoch with fresh keys", arguments: "room rotate team -o rotate.bundle")],
        "room set": [.init(purpose: "Keep old message keys for a week", arguments: "room set team --retention 7d")],
        "room list": [.init(purpose: "List rooms", arguments: "room list")],
        "room show": [.init(purpose: "Show members, roles and trust", arguments: "room show team")],
        "room log": [.init(purpose: "Show the membership log", arguments: "room log team --json")],
        "room fingerprint": [.init(purpose: "Show the fingerprint to compare with other members", arguments: "room fingerprint team")],
        "room report": [.init(purpose: "Report every epoch with its bundles", arguments: "room report team")],
        "room resolve": [.init(purpose: "Keep your branch of a forked room", arguments: "room resolve team")],
        "receive": [
            .init(purpose: "Apply every bundle in a synced folder (stray files are ignored)", arguments: "receive ~/Sync/roomkey"),
            .init(purpose: "Apply bundles quietly: only errors are printed", arguments: "receive -q ~/Sync/roomkey"),
        ],
        "encrypt": [
            .init(purpose: "Encrypt a file for a room", arguments: "encrypt team -o report.msg report.pdf"),
            .init(purpose: "Encrypt many files into a folder", arguments: "encrypt team -o out a.txt b.txt"),
        ],
        "decrypt": [.init(purpose: "Decrypt a message", arguments: "decrypt -o report.pdf report.msg")],
        "apply": [
            .init(purpose: "Check a membership script without changing anything", arguments: "apply onboarding.txt --dry-run"),
            .init(purpose: "Apply it: one commit and one bundle per room", arguments: "apply onboarding.txt"),
        ],
        "offboard": [.init(purpose: "Remove dave from every room you administer", arguments: "offboard dave")],
        "outbox": [.init(purpose: "List bundles not yet delivered", arguments: "outbox list")],
        "outbox list": [.init(purpose: "List bundles not yet delivered", arguments: "outbox list")],
        "outbox flush": [.init(purpose: "Write undelivered bundles to a folder", arguments: "outbox flush --outbox ~/Sync/roomkey")],
        "outbox resend": [.init(purpose: "Write the bundle of epoch 3 again", arguments: "outbox resend team --epoch 3")],
        "prune": [.init(purpose: "Delete sender keys older than 30 days", arguments: "prune --older-than 30d")],
        "audit": [.init(purpose: "Check the audit log's hash chain", arguments: "audit --verify")],
        "backup": [.init(purpose: "Back up the keyring", arguments: "backup -o keyring.backup")],
        "restore": [.init(purpose: "Restore a backup over the current keyring", arguments: "restore keyring.backup --force")],
        "passwd": [.init(purpose: "Change the passphrase (asked twice)", arguments: "passwd")],
    ]
}
