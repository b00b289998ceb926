import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room create NAME`.
    struct Create: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a room (epoch 0) with you as admin and the given contacts as members.",
            discussion: "A contact whose handle you or another member has is refused (exit 6) unless --allow-same-handle is given.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions

        @Argument(help: ArgumentHelp("The room's name.", valueName: "name"))
        var name: String

        @Option(name: .customLong("member"), help: ArgumentHelp("A contact to add (repeatable).", valueName: "contact"))
        var members: [String] = []

        @Option(name: .long, help: ArgumentHelp("A file of contact names, one per line.", valueName: "file"), completion: .file())
        var membersFile: String?

        @Flag(name: .long, help: "Add contacts even if a member (or another contact added) has the same handle; listings then show short ids.")
        var allowSameHandle = false

        @Flag(name: .long, help: "Require post-quantum stanzas from the start, as room set --require-pq does: members on version 1 cards are refused, by name (exit 6).")
        var requirePq = false

        /// A room name the new-name rules refuse is a usage error (64), as `init --name` and `contact add --as` give.
        func validate() throws {
            do { try Handle.validateNew(name, what: "room name") } catch { throw ValidationError(error.message) }
        }

        func execute(_ output: Output) throws {
            let names = members + (try MembersFile.names(membersFile))
            try bundle.checkOutput()
            let result = try openKeyring(outbox: bundle.outbox.box).createRoom(name: name, members: names, allowSameHandle: allowSameHandle,
                                                                              requirePQ: requirePq, deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.confirmation(doc) { doc.lines("created") }
        }
    }

    /// `roomkey room add ROOM CONTACT...`.
    struct Add: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add contacts to a room (admins only); new members receive the whole log.",
            discussion: "A contact whose handle a member (or another contact added) has is refused (exit 6) unless --allow-same-handle is given.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions

        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room"))
        var room: String

        @Argument(help: ArgumentHelp("Contacts to add.", valueName: "contact"))
        var contacts: [String] = []

        @Option(name: .long, help: ArgumentHelp("A file of contact names, one per line.", valueName: "file"), completion: .file())
        var membersFile: String?

        @Flag(name: .long, help: "Add contacts even if a member (or another contact added) has the same handle; listings then show short ids.")
        var allowSameHandle = false

        @Flag(name: .long, help: "Skip contacts already in the room (under any of their keys); nothing to add exits 0 with no commit.")
        var ifMissing = false

        @OptionGroup var staging: StagingOptions

        func validate() throws {
            if contacts.isEmpty && membersFile == nil { throw ValidationError("name at least one contact, or --members-file") }
        }

        func execute(_ output: Output) throws {
            let names = contacts + (try MembersFile.names(membersFile))
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if try staging.stageIfRemote(keyring, room: room, [ifMissing ? .addIfMissing(names) : .add(names)], allowSameHandle: allowSameHandle,
                                         outbox: bundle.outbox.box, output: output) { return }
            if ifMissing {
                let planned = try keyring.changeIfNeeded(room: room, [.addIfMissing(names)], allowSameHandle: allowSameHandle, deliver: bundle.delivery)
                let doc = ChangeDocument(planned, dryRun: false)
                output.confirmation(doc) { doc.lines("added \(planned.operations.count) to") }
                return
            }
            try bundle.checkOutput()
            let result = try keyring.change(room: room, [.add(names)], allowSameHandle: allowSameHandle, deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.confirmation(doc) { doc.lines("added \(result.operationCount) to") }
        }
    }
}
