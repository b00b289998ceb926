import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room forget ROOM --force`.
    struct Forget: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "forget",
            abstract: "Delete everything this keyring holds about a room: its log, keys and waiting bundles (needs --force).",
            discussion: """
                The room's messages can no longer be read here, and nothing is sent to its members: to leave a room \
                first, use 'roomkey room leave'. The room can then be received again from its genesis. This is the way \
                back into a room whose id someone reused: when a bundle is rejected because "one of them reused the \
                other's room id", compare the room fingerprint with the members you trust; if the room held here is \
                the made-up one, forget it and receive the real bundle again. Bundles this keyring recorded but did not \
                write yet are written first (into the outbox folder); while one of the room's cannot be written, the room \
                is not forgotten.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Flag(help: "Confirm: the room's keys are deleted and its messages can no longer be read here.") var force = false
        @OptionGroup var outbox: OutboxOption

        func execute(_ output: Output) throws {
            let keyring = try openKeyring(outbox: outbox.box)
            guard force else {
                let r = try keyring.room(room)
                throw ForgetError.needsForce(name: r.name, id: r.id)
            }
            let r = try keyring.forgetRoom(room)
            output.confirmation(ForgetDocument(roomId: r.id.hex, name: r.name, epoch: r.state.epoch)) {
                ["forgot room \(SafeText.quotedList([r.name])) (\(r.id.hex)) at epoch \(r.state.epoch); its messages can no longer be read here"]
            }
        }
    }
}

/// Why `room forget` did nothing.
enum ForgetError: Error, Equatable {
    /// `--force` was not given.
    case needsForce(name: String, id: RoomID)
}

extension ForgetError: RoomKeyError {
    /// A refusal: nothing changed (exit 6).
    var category: ErrorCategory { .refused }
    /// One line.
    var message: String {
        switch self {
        case let .needsForce(name, id): "forgetting room \(SafeText.quotedList([name])) (\(id.hex)) deletes its log and every key of it here; nothing was changed"
        }
    }
    /// The next step.
    var hint: String? { "add --force to forget it (its messages can no longer be read here), or 'roomkey room leave' to leave it" }
}

/// `room forget --json`: the room forgotten and the epoch it was at.
struct ForgetDocument: Encodable {
    let roomId: String, name: String, epoch: UInt64
}
