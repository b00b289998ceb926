extension BundleAcceptance {
    /// The most cards carried commits may add before the recipients are checked early in a room held here (below it,
    /// checking them after the rules costs less than listing the roster's ids once more).
    static var earlyRecipientsCheckAdds: Int { 64 }

    /// The recipients check made before the rules, on the member ids the carried commits claim: `base` (the roster
    /// before them) with each `create` and `add` putting its card's id in and each `remove` and `leave` taking one out,
    /// no card's signature checked. A log that the rules accept gives exactly these members, so a bundle sealed to
    /// others is refused as it would be after them, without first verifying every card of a genesis of 100,000 members
    /// (a hostile review: 10 s for one file from a contact).
    func checkClaimedRecipients(_ bundle: Bundle, commits: some Collection<Commit>, base: [IdentityID]) throws {
        var members = Set(base)
        for commit in commits {
            for op in commit.operations {
                switch op {
                case let .create(_, creator): members.insert(creator.id)
                case let .add(card): members.insert(card.id)
                case let .remove(id): members.remove(id)
                case .leave: members.remove(commit.author)
                case .promote, .demote: break
                }
            }
        }
        members.remove(bundle.sender)
        let got = Set(bundle.recipients)
        guard got != members else { return }
        throw BundleError.recipientsMismatch(extra: got.subtracting(members).sorted(), missing: members.subtracting(got).sorted())
    }

    /// How many cards `commits` add (a genesis's creator and members included).
    static func addedCards(_ commits: some Collection<Commit>) -> Int {
        commits.reduce(0) { sum, commit in
            sum + commit.operations.reduce(0) { n, op in
                switch op {
                case .create, .add: n + 1
                default: n
                }
            }
        }
    }
}
