/// Where each kind of bundle lives in a git remote (docs/PROTOCOL.md §9): hex ids and decimal epochs only, so the
/// repository learns no handle, room name or contact name. The commit path of an epoch is its lock: one file per epoch.
public enum RemoteLayout {
    /// What a path in the repository holds.
    public enum Kind: Equatable, Sendable {
        /// `rooms/<room>/log/<epoch>.roomkey`: the commit bundle of that epoch.
        case commit
        /// `rooms/<room>/keys/<epoch>/<sender>-<generation>.roomkey`: a member's sender key.
        case senderKey(sender: String, generation: String)
        /// `rooms/<room>/leave/<member>-<epoch>.roomkey`: a member's signed leave request.
        case leaveRequest(member: String)
        /// `rooms/<room>/resent/<epoch>/<sender>-<digest>.roomkey`: a bundle written again for members who lost it.
        case resent(sender: String, digest: String)
    }

    /// One recognised path.
    public struct Entry: Equatable, Sendable {
        /// The room id (32 lowercase hex digits).
        public let room: String
        /// The epoch the file belongs to.
        public let epoch: UInt64
        /// What it holds.
        public let kind: Kind
    }

    /// The suffix of every bundle file.
    public static let suffix = ".roomkey"

    /// The folder of a room.
    public static func roomFolder(_ room: String) -> String { "\(root)/\(room)" }

    /// The folder every file roomkey reads or writes on a remote is under.
    public static let root = "rooms"

    /// The folder of a room's commit bundles.
    public static func logFolder(_ room: String) -> String { "\(roomFolder(room))/log" }

    /// The folder of a room's sender-key bundles.
    public static func keysFolder(_ room: String) -> String { "\(roomFolder(room))/keys" }

    /// The folder of bundles written again (`outbox resend`), one folder per epoch.
    public static func resentFolder(_ room: String) -> String { "\(roomFolder(room))/resent" }

    /// The commit bundle of `epoch`.
    public static func commitPath(room: String, epoch: UInt64) -> String { "\(logFolder(room))/\(epoch)\(suffix)" }

    /// A sender-key bundle; `generation` is decimal, or a digest prefix when the generation is not known.
    public static func senderKeyPath(room: String, epoch: UInt64, sender: String, generation: String) -> String {
        "\(keysFolder(room))/\(epoch)/\(sender)-\(generation)\(suffix)"
    }

    /// A leave request.
    public static func leavePath(room: String, member: String, epoch: UInt64) -> String {
        "\(roomFolder(room))/leave/\(member)-\(epoch)\(suffix)"
    }

    /// A re-sent bundle, named by a digest of its bytes.
    public static func resentPath(room: String, epoch: UInt64, sender: String, digest: String) -> String {
        "\(roomFolder(room))/resent/\(epoch)/\(sender)-\(digest)\(suffix)"
    }

    /// The entry a path names, or nil for anything else (a stray file is never read).
    public static func parse(_ path: String) -> Entry? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 4, parts[0] == root, isID(parts[1]), let last = parts.last, last.hasSuffix(suffix) else { return nil }
        let room = parts[1]
        let stem = String(last.dropLast(suffix.count))
        switch (parts[2], parts.count) {
        case ("log", 4):
            guard let epoch = decimal(stem) else { return nil }
            return Entry(room: room, epoch: epoch, kind: .commit)
        case ("keys", 5):
            guard let epoch = decimal(parts[3]), let (sender, generation) = pair(stem), isID(sender), isGeneration(generation) else { return nil }
            return Entry(room: room, epoch: epoch, kind: .senderKey(sender: sender, generation: generation))
        case ("leave", 4):
            guard let (member, epochText) = pair(stem), isID(member), let epoch = decimal(epochText) else { return nil }
            return Entry(room: room, epoch: epoch, kind: .leaveRequest(member: member))
        case ("resent", 5):
            guard let epoch = decimal(parts[3]), let (sender, digest) = pair(stem), isID(sender), isHex(digest), digest.utf8.count == 16 else {
                return nil
            }
            return Entry(room: room, epoch: epoch, kind: .resent(sender: sender, digest: digest))
        default:
            return nil
        }
    }

    /// The epochs of `keys/<epoch>/` folders that the retention window allows to delete from the branch tip: every
    /// epoch before `current` that was superseded (the commit of the next epoch made) at least `retention` seconds
    /// before `now`. `superseded` gives the time epoch `e` ended (the time of commit `e + 1`), when known.
    public static func expiredKeyEpochs(_ epochs: [UInt64], current: UInt64, retention: UInt64, now: UInt64,
                                        superseded: (UInt64) -> UInt64?) -> [UInt64] {
        epochs.filter { keysExpired(epoch: $0, current: current, retention: retention, now: now, ended: superseded($0)) }.sorted()
    }

    /// True when the keys of `epoch` are past the retention window: it is before `current` and `ended` (the time of
    /// commit `epoch + 1`, when known) at least `retention` seconds before `now`. Sync deletes such an epoch's
    /// `keys/` folder, and `outbox resend` sends no key of it.
    public static func keysExpired(epoch: UInt64, current: UInt64, retention: UInt64, now: UInt64, ended: UInt64?) -> Bool {
        guard epoch < current, let ended else { return false }
        return now >= ended && now - ended >= retention
    }

    /// `a-b` split at the last hyphen.
    private static func pair(_ stem: String) -> (String, String)? {
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let a = String(stem[..<dash]), b = String(stem[stem.index(after: dash)...])
        return a.isEmpty || b.isEmpty ? nil : (a, b)
    }

    /// A canonical decimal number: digits only, no leading zero (except "0"), fits in 64 bits.
    private static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              text == "0" || !text.hasPrefix("0") else { return nil }
        return UInt64(text)
    }

    /// True when `name` can name a room folder (32 lowercase hex digits).
    public static func isRoomID(_ name: String) -> Bool { isID(name) }

    /// 32 lowercase hex digits.
    private static func isID(_ text: String) -> Bool { text.utf8.count == 32 && isHex(text) }

    /// Lowercase hex digits only.
    private static func isHex(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// A decimal generation, or `x` and 16 hex digits (a digest, for a bundle whose generation is not recorded).
    private static func isGeneration(_ text: String) -> Bool {
        if decimal(text) != nil { return true }
        return text.hasPrefix("x") && text.utf8.count == 17 && isHex(String(text.dropFirst()))
    }
}
