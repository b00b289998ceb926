import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room set ROOM [--retention D] [--rotate-messages N] [--rotate-after D]`.
    struct Settings: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set a room's retention window and your sender key's rotation policy (local settings).",
            discussion: """
                --retention: how long superseded sender keys stay usable for late messages (default 72h); a shorter \
                window deletes expired keys at once. --rotate-messages and --rotate-after: your sender key rotates \
                after that many messages or that long (defaults 1000 and 7d); 'encrypt' then makes the new generation \
                first and writes its bundle to the outbox. Durations: 72h, 30m, 7d, 3600s. These settings stay in your \
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

        func execute(_ output: Output) throws {
            let (r, pruned) = try openKeyring().setRoomPolicy(room: room, retentionSeconds: try retention.map { try DurationText.parse($0) },
                                                              rotateMessages: rotateMessages,
                                                              rotateAfterSeconds: try rotateAfter.map { try DurationText.parse($0) })
            let doc = RoomSettingsDocument(roomId: r.id.hex, name: r.name, retentionSeconds: r.retentionSeconds,
                                           rotateMessages: r.rotateMessages, rotateAfterSeconds: r.rotateAfterSeconds,
                                           deletedSenderKeys: pruned.senderKeys)
            output.result(doc) {
                ["room \(r.name): retention \(DurationText.format(r.retentionSeconds)), your sender key rotates after "
                    + "\(r.rotateMessages) messages or \(DurationText.format(r.rotateAfterSeconds))"]
                    + (pruned.senderKeys > 0 ? ["deleted \(pruned.senderKeys) expired sender keys"] : [])
            }
        }

        struct RoomSettingsDocument: Encodable {
            let roomId: String, name: String, retentionSeconds: UInt64, rotateMessages: UInt32, rotateAfterSeconds: UInt64
            let deletedSenderKeys: Int
        }
    }
}
