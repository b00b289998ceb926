import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room set ROOM [--retention D] [--rotate-messages N] [--rotate-after D] [--require-pq | --no-require-pq]`.
    struct Settings: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set a room's retention window and your sender key's rotation policy (local settings).",
            discussion: """
                --retention: how long superseded sender keys stay usable for late messages (default 72h); a shorter \
                window deletes expired keys at once. --rotate-messages and --rotate-after: your sender key rotates \
                after that many messages or that long (defaults 1000 and 7d); 'encrypt' then makes the new generation \
                first and writes its bundle to the outbox. Durations: 72h, 30m, 7d, 3600s. --require-pq: every stanza \
                must be post-quantum (X-Wing): adding a member on a version 1 card is refused, and nothing is \
                distributed while a member is still on one (they run 'roomkey id upgrade', you 'roomkey contact add' \
                the new card); turning it on makes your next sender key due, as a contact's upgrade does in their \
                rooms, since the current one may have gone out in a version 1 stanza. --remote: deliver the room \
                through another git remote; refused (exit 6) while the room has changes staged for its current remote, unless --force deletes them. These settings stay in your \
                keyring; they are not sent to the other members.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room"))
        var room: String

        @Option(name: .long, help: ArgumentHelp("Keep superseded sender keys this long.", valueName: "duration"))
        var retention: String?

        @Option(name: .long, help: ArgumentHelp("Rotate your sender key after this many messages.", valueName: "n"))
        var rotateMessages: UInt64?

        @Option(name: .long, help: ArgumentHelp("Rotate your sender key once it is this old.", valueName: "duration"))
        var rotateAfter: String?

        @Flag(inversion: .prefixedNo, help: "Require post-quantum (X-Wing) stanzas for every member.")
        var requirePq: Bool?

        @Option(name: .long, help: ArgumentHelp("Deliver this room through this git remote (see 'roomkey remote').", valueName: "name"))
        var remote: String?

        @Flag(name: .long, help: "With --remote: delete the changes still staged for the room's current remote.")
        var force = false

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            var r: StoredRoom
            var deleted = 0
            if let remote { r = try keyring.setRemote(room: room, remote: remote, force: force) }
            if let requirePq { r = try keyring.setRequirePQ(room: room, requirePq) }
            if requirePq == nil && remote == nil || retention != nil || rotateMessages != nil || rotateAfter != nil {
                let (updated, pruned) = try keyring.setRoomPolicy(room: room, retentionSeconds: try retention.map { try DurationText.parse($0) },
                                                                  rotateMessages: rotateMessages,
                                                                  rotateAfterSeconds: try rotateAfter.map { try DurationText.parse($0) })
                r = updated
                deleted = pruned.senderKeys
            } else {
                r = try keyring.room(room)
            }
            let classical = try keyring.classicalMembers(rooms: [r])[r.id] ?? []
            let doc = RoomSettingsDocument(roomId: r.id.hex, name: r.name, retentionSeconds: r.retentionSeconds,
                                           rotateMessages: r.rotateMessages, rotateAfterSeconds: r.rotateAfterSeconds,
                                           deletedSenderKeys: deleted, requirePq: r.requirePQ, postQuantum: classical.isEmpty,
                                           classicalMembers: classical.map(\.name))
            output.confirmation(doc) {
                ["room \(r.name): retention \(DurationText.format(r.retentionSeconds)), your sender key rotates after "
                    + "\(r.rotateMessages) messages or \(DurationText.format(r.rotateAfterSeconds))"
                    + (r.requirePQ ? ", post-quantum stanzas required" : "")]
                    + (deleted > 0 ? ["deleted \(deleted) expired sender keys"] : [])
                    + (r.requirePQ && !classical.isEmpty
                        ? ["still on version 1 cards (nothing is distributed until they upgrade): \(SafeText.quotedList(classical.map(\.name)))"] : [])
            }
        }

        struct RoomSettingsDocument: Encodable {
            let roomId: String, name: String, retentionSeconds: UInt64, rotateMessages: UInt32, rotateAfterSeconds: UInt64
            let deletedSenderKeys: Int
            let requirePq: Bool, postQuantum: Bool, classicalMembers: [String]
        }
    }
}
