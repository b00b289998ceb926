import RoomKeyCore

/// What one `sync` did.
public struct SyncReport: Sendable {
    /// A room whose log on the remote stops before this keyring's epoch.
    public struct Behind: Sendable {
        /// The room.
        public let roomID: RoomID
        /// Its name here.
        public let name: String
        /// This keyring's epoch, which the remote lacks.
        public let epoch: UInt64
    }

    /// A staged commit that lost its epoch to another admin's and was planned again.
    public struct Rebased: Sendable {
        /// The room.
        public let roomID: RoomID
        /// Its name here.
        public let name: String
        /// The epoch the lost commit claimed.
        public let epoch: UInt64
    }

    /// Something sync found at an epoch's commit file (`rooms/<room>/log/<epoch>.roomkey`).
    public struct LogNote: Sendable, Equatable {
        /// The room.
        public let roomID: RoomID
        /// Its name here.
        public let name: String
        /// The epoch of the file.
        public let epoch: UInt64
        /// What was found (one line).
        public let reason: String
    }

    /// The remote's name.
    public let remote: String
    /// Every bundle received from the remote, but for the paths counted in `unlisted`.
    public var received: [ReceiveResult] = []
    /// The results of paths naming a file this sync met at another path (a duplicate, a misplaced copy, an unreadable
    /// file), past the first `listedRepeats` of them: counted by status, not listed (two reviews: one blob at 3.4
    /// million paths, a push of 112 KB, held 3.2 GB as one result per path; at 3.3 million wrong paths, 5.5 GB).
    public var unlisted: [ReceiveStatus: Int] = [:]
    /// How many results of such repeated paths a sync lists in `received`.
    public static let listedRepeats = 64
    /// Commits this keyring published and applied.
    public var published: [PublishedCommit] = []
    /// Staged commits that another admin's commit superseded.
    public var rebased: [Rebased] = []
    /// Staged operations dropped because they were already done or no longer allowed.
    public var dropped: [DroppedChange] = []
    /// Rooms the remote lacks recent epochs of (it was rewound or lost files); they were published again.
    public var behind: [Behind] = []
    /// Rooms this sync marked forked: the remote holds another admin's valid commit for the room's current epoch.
    public var forks: [LogNote] = []
    /// Epochs this keyring holds for which the remote holds another commit that may be valid (never overwritten).
    public var conflicts: [LogNote] = []
    /// Staged commits not published because their epoch holds a commit this keyring cannot apply (kept staged).
    public var blocked: [LogNote] = []
    /// Rooms whose staged change the rules refuse now (it stays staged; `reason` says why), at the epoch it was for.
    public var refused: [LogNote] = []
    /// Rooms whose next epoch's commit file has no stanza that opens here: this member was removed, or the file is not
    /// what it claims (which only an outer signature could tell); said at every sync while it lasts.
    public var leftOut: [LogNote] = []
    /// Rooms whose next epoch's commit file names this identity as its sender, though this keyring does not hold that
    /// commit: a later state of this keyring made it (this one was restored from a backup), or someone made it look so.
    public var ownAhead: [LogNote] = []
    /// Commit files of held epochs that were missing or invalid on the remote and were published again.
    public var repaired: [LogNote] = []
    /// This member's own files (sender keys, leave requests, re-sent bundles) that the remote held with other bytes and
    /// that were written again; `reason` is the file's path.
    public var replaced: [LogNote] = []
    /// True when the remote's branch no longer contains what the last sync saw (a force-push).
    public var rewound = false
    /// Files written to the remote.
    public var filesPushed = 0
    /// Expired sender-key files removed from the branch tip.
    public var filesDeleted = 0
    /// Pushes refused because another keyring pushed first.
    public var races = 0
    /// Staged operations still waiting (the retries ran out, or their room is forked).
    public var stillStaged = 0
    /// Rooms with staged changes that are forked: nothing is published there until the fork is resolved.
    public var forked: [Rebased] = []
    /// Files left for the next sync because this one's byte budget ran out.
    public var deferred = 0
    /// True when the server ignored the size filter of the fetch (every file was downloaded, whatever its size).
    public var filterIgnored = false
    /// Commit files this sync received and applied (or found applied before), path -> blob id: they hold exactly the
    /// stored commit, so the log check does not open them again.
    var acceptedCommitFiles: [String: String] = [:]
    /// The remote's branch tip after the sync.
    public var tip: String?

    /// An empty report for `remote`.
    public init(remote: String) { self.remote = remote }
}
