/// Which delivered outbox entries a keyring lets go before its 30-day history ends (docs/PROTOCOL.md §8).
public enum OutboxHistory {
    /// The kind of an entry that carries this member's sender key alone.
    public static let senderKeyKind = "sender-key"

    /// True when a delivered entry of `kind` goes now, before 30 days: a sender-key bundle whose epoch's keys are past
    /// the room's retention (`keysExpired`, from `RemoteLayout.keysExpired`). No one may be handed it again (`outbox
    /// resend` refuses it, sync deletes its folder), and each commit of a large room added one as large as the roster
    /// to every member's history (a review: 774 KB a commit in a room of 652 members on version 2 cards). Commits,
    /// resends and leave requests keep their 30 days; an undelivered entry is never let go.
    public static func expiresEarly(kind: String, delivered: Bool, keysExpired: Bool) -> Bool {
        delivered && keysExpired && kind == senderKeyKind
    }
}
