/// Files that sit in a folder of bundles but are no roomkey input at all (a synced folder collects such files):
/// `receive` reports them as ignored, with the reason, instead of failing on them.
public enum StrayInput {
    /// The name prefix of a file being written durably (`OutputPath`): a partial write, not yet a bundle.
    public static let temporaryPrefix = ".roomkey-tmp-"

    /// Whether a file of this name is a partial write, decided before reading it.
    public static func isPartialWrite(fileName: String) -> Bool { fileName.hasPrefix(temporaryPrefix) }

    /// Why `bytes` read from a folder are not a bundle or leave request, or nil when they look like one (and are then
    /// checked, and reported as malformed if they are damaged).
    public static func reason(_ bytes: [UInt8]) -> String? {
        if bytes.isEmpty { return "empty file" }
        if bytes.starts(with: Bundle.magic.prefix(3)) || LeaveRequest.looksLike(bytes) { return nil }
        if bytes.starts(with: Array("RKM".utf8)) || MessageArmor.isArmored(bytes) {
            return "a room message, not a bundle (read it with 'roomkey decrypt')"
        }
        if bytes.starts(with: Array("roomkey-card-".utf8)) { return "an identity card, not a bundle (add it with 'roomkey contact add')" }
        return "not a roomkey file"
    }
}
