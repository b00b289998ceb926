import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey prune [--older-than DURATION]`.
    struct Prune: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Delete superseded sender keys (with their kept message keys) and stale pending bundles past the retention window.",
            discussion: """
                A sender key is superseded when its room moves to a new epoch, or its owner makes a new generation. \
                It stays usable for late messages for the room's retention window ('room set ROOM --retention', \
                default 72h), then is deleted; beyond the newest 64 of one member's superseded keys in an epoch, a \
                key keeps at most 64 skipped message keys. Every command that writes does this too; prune does it now, and with \
                --older-than also deletes keys superseded more than DURATION ago when that is shorter than the \
                room's window (72h, 30m, 7d, 3600s; 0s deletes every superseded key). Bundles kept as pending longer than \
                DURATION (default 72h) are deleted too. SQLite's secure_delete is on, so deleted rows do not linger in \
                free pages.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: ArgumentHelp("Also delete keys superseded more than this long ago.", valueName: "duration"))
        var olderThan: String?

        func execute(_ output: Output) throws {
            let seconds = try olderThan.map { try DurationText.parse($0) }
            let result = try openKeyring().pruneExpired(olderThan: seconds)
            output.confirmation(PruneDocument(deletedSenderKeys: result.senderKeys, rooms: result.rooms, deletedPendingBundles: result.pendingBundles)) {
                ["deleted \(result.senderKeys) sender key\(result.senderKeys == 1 ? "" : "s") in \(result.rooms) room\(result.rooms == 1 ? "" : "s")"
                    + " and \(result.pendingBundles) stale pending bundle\(result.pendingBundles == 1 ? "" : "s")"]
            }
        }

        struct PruneDocument: Encodable { let deletedSenderKeys: Int, rooms: Int, deletedPendingBundles: Int }
    }
}
