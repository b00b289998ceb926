import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room resolve ROOM`.
    struct Resolve: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract: "End a fork (admins): keep the accepted branch and allow distribution again.",
            discussion: """
                A forked room distributes no keys. An admin who has compared fingerprints with the other members keeps \
                the branch this keyring accepted; the admin's next commit on it (for example removing whoever signed the \
                conflicting commit) ends the fork for every member who applies it. In a room that is not forked, it \
                clears the mark a restore left (see sync): run it once the members have confirmed that your epoch is \
                the room's latest, and a file at the next epoch that names you is replaced by your next change.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let (r, wasForked, restoreMark) = try openKeyring().resolveFork(of: room)
            output.confirmation(ResolveDocument(roomId: r.id.hex, head: Hex.encode(r.state.head), resolved: wasForked || restoreMark,
                                                restoreMarkCleared: restoreMark)) {
                // A room that was not forked is left as it was, and says so (it said "distribution is allowed again").
                if wasForked {
                    let kept = "room \(Output.oneLine(r.name)) keeps epoch \(r.state.epoch), head \(Hex.encode(r.state.head)); distribution is allowed again"
                    // The restore mark, if any, stays for a second run (a review: nothing said it was still there).
                    return r.restoredBehind ? [kept, "room \(Output.oneLine(r.name)) still carries the mark a restore left: run 'roomkey room resolve' again to clear it"] : [kept]
                }
                if restoreMark {
                    return ["room \(Output.oneLine(r.name)): the restore mark is cleared; epoch \(r.state.epoch) is taken as the latest, and a file at epoch \(r.state.epoch + 1) naming you is replaced by your next change"]
                }
                return ["room \(Output.oneLine(r.name)) is not forked: nothing to resolve"]
            }
        }
    }
}

/// `room resolve --json`: the room, the kept head, and whether a fork mark was cleared (false: it was not forked).
struct ResolveDocument: Encodable {
    let roomId: String, head: String, resolved: Bool
    /// True when the room was not forked and the restore mark was cleared instead.
    let restoreMarkCleared: Bool
}
