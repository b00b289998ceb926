import Foundation
import GRDB
import RoomKeyCore

/// The rollback state file of a keyring's path: the count seen at the path, and the lineage of the keyring there (and,
/// while a restore or an accepted rollback replaces it, of the keyring it replaces). A keyring of another lineage at
/// the path is refused whatever its count.
extension Keyring {
    /// The state file of this keyring's path in `folder`: a keyed tag of its real path (links resolved). It holds the
    /// count seen there and the lineage of the keyring there (and the replaced one's, while a restore replaces it): a keyring of another
    /// lineage at the path (a backup restored elsewhere to look at it, then copied over the live keyring) is refused,
    /// whatever its count (a review: one write after the restore raised its count past the path's, and it opened).
    func pathStateFilePath(in folder: String) -> String {
        let real = Array(Self.realPath(anchorPath ?? path).utf8)
        return (folder as NSString).appendingPathComponent(Hex.encode(Array(tag("state-path", real).prefix(16))) + ".state")
    }

    /// What the path's state file holds: the count, and the lineages of the keyring at the path (nil in a file written
    /// before they were kept, which then checks the count alone).
    struct PathState: Equatable {
        let count: UInt64
        let lineages: [String]?
    }

    /// The line of the path's state file: `roomkey-path-v1 COUNT LINEAGE[,LINEAGE] MAC`.
    func pathLine(_ count: UInt64, _ lineages: [String]) -> String {
        let names = lineages.joined(separator: ",")
        return "roomkey-path-v1 \(count) \(names) \(Hex.encode(tag("state-path-mac", u64(count), Array(names.utf8))))\n"
    }

    /// The path state in `file`, or nil (missing, unreadable, or not made with this keyring's key).
    func pathState(in file: String) throws -> PathState? {
        guard let text = try Self.readStateFile(file) else { return nil }
        let parts = text.split(separator: " ")
        if parts.count == 3, parts[0] == "roomkey-state-v1", let count = UInt64(parts[1]), text == stateLine(count) {
            return PathState(count: count, lineages: nil)
        }
        guard parts.count == 4, parts[0] == "roomkey-path-v1", let count = UInt64(parts[1]) else { return nil }
        let lineages = parts[2].split(separator: ",").map(String.init)
        guard (1...4).contains(lineages.count), text == pathLine(count, lineages) else { return nil }
        return PathState(count: count, lineages: lineages)
    }

    /// The lineage of the keyring file at `path` when it is a copy of this keyring (its sealed write counter opens with
    /// this keyring's key), `noLineage` for such a copy never restored, nil otherwise (no file, another keyring, a
    /// companion file that is not the user's own, a file SQLite cannot read). Read by a restore about the keyring it
    /// replaces, under the restore's exclusive use lock.
    func lineage(ofCopyAt path: String) -> String? {
        // A regular file only: a FIFO there hung the restore (a review).
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, KeyringFile.foreignCompanion(of: path) == nil else { return nil }
        var configuration = Configuration()
        configuration.readonly = true
        guard let queue = try? DatabaseQueue(path: path, configuration: configuration) else { return nil }
        defer { try? queue.close() }
        guard let counter = (try? queue.read { db in try writeCounter(db) }) ?? nil else { return nil }
        return counter.lineage ?? Self.noLineage
    }

    /// The path's line to record for `count` (nil: the file holds it already). A durable write (a restore, an accepted
    /// rollback) lowers the count to `count` when the file holds more, never raising it, and names this keyring and the
    /// one it replaces; an ordinary one names this keyring alone, and starts the count over at its own when the file
    /// named others too (a review: after an accepted rollback, the first write raised the count past the keyring's).
    func pathStateLine(_ count: UInt64, durable: Bool, seen: PathState?) -> String? {
        let mine = replacing?.next ?? lineageName()
        if durable {
            let lowered = min(seen?.count ?? count, count)
            // Nothing tells which keyring the path holds: the count alone, as before lineages were kept.
            guard let lineages = durableLineages(mine: mine, named: seen?.lineages) else {
                return seen == PathState(count: lowered, lineages: nil) ? nil : stateLine(lowered)
            }
            return seen == PathState(count: lowered, lineages: lineages) ? nil : pathLine(lowered, lineages)
        }
        if let seen, seen.count >= count, seen.lineages == [mine] { return nil }
        return pathLine(seen?.lineages == [mine] ? max(seen?.count ?? count, count) : count, [mine])
    }

    /// The lineages a durable write names: `mine`, and while it replaces a keyring at the path (`replacing`: an accepted
    /// rollback; `anchorPath`: a restore) the one it replaces when the file allowed that one there (a review: a copy of
    /// another lineage, refused at the path, was let in by a restore over it that failed); when the replaced keyring
    /// cannot be read, the lineages the file named, a few at most; nil when nothing tells.
    private func durableLineages(mine: String, named: [String]?) -> [String]? {
        let replaced: String?
        if let replacing { replaced = replacing.current } else if let anchorPath { replaced = lineage(ofCopyAt: anchorPath) } else { return [mine] }
        if let replaced, named?.contains(replaced) ?? true { return replaced == mine ? [mine] : [mine, replaced] }
        guard let named else { return nil }
        return [mine] + named.filter { $0 != mine }.prefix(3)
    }
}
