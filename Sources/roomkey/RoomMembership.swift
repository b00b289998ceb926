import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room remove ROOM MEMBER...`.
    struct Remove: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove members from a room (admins only); they receive nothing for the new epoch.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions

        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room"))
        var room: String

        @Argument(help: ArgumentHelp("Members to remove: contact name, handle or id.", valueName: "member"))
        var members: [String]

        @Flag(name: .long, help: "Skip names that are not members; nothing to remove exits 0 with no commit.")
        var ifPresent = false

        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if try staging.stageIfRemote(keyring, room: room, [ifPresent ? .removeIfPresent(members) : .remove(members)],
                                         outbox: bundle.outbox.box, output: output) { return }
            if ifPresent {
                let planned = try keyring.changeIfNeeded(room: room, [.removeIfPresent(members)], deliver: bundle.delivery)
                let doc = ChangeDocument(planned, dryRun: false)
                output.confirmation(doc) { doc.lines("removed \(planned.operations.count) from") }
                return
            }
            try bundle.checkOutput()
            let result = try keyring.change(room: room, [.remove(members)], deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.confirmation(doc) { doc.lines("removed \(result.operationCount) from") }
        }
    }

    /// `roomkey room replace ROOM NAME`.
    struct Replace: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "replace",
            abstract: "Swap a contact's changed identity key in a room: its old identity out, its new card in, one commit.",
            discussion: """
                The contact's new key must be verified ('roomkey verify NAME --confirm DIGITS') or accepted ('roomkey \
                contact accept NAME') first (exit 6 otherwise). The new identity keeps the old one's role. Refused \
                (exit 6) when the contact's key never changed or no old identity of it is a member.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Argument(help: ArgumentHelp("The contact whose key changed.", valueName: "name")) var name: String
        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if try staging.stageIfRemote(keyring, room: room, [.replace(name)], outbox: bundle.outbox.box, output: output) { return }
            let planned = try keyring.changeIfNeeded(room: room, [.replace(name)], deliver: bundle.delivery)
            let doc = ChangeDocument(planned, dryRun: false)
            let removed = planned.operations.compactMap { if case let .remove(id) = $0 { id.hex } else { nil } }
            let added = planned.operations.compactMap { if case let .add(card) = $0 { card.id.hex } else { nil } }
            output.confirmation(doc) {
                // The new key may be a member already (then the commit only removes the old one): say so, not "-> ".
                let new = added.isEmpty ? "its new key already a member" : added.joined(separator: ", ")
                return doc.lines("replaced \(name) (\(removed.joined(separator: ", ")) -> \(new)) in")
            }
        }
    }

    /// `roomkey room members ROOM --members-file F [--admins-file F] [--dry-run]`.
    struct Members: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "members",
            abstract: "Make a room's members exactly those of a file, in one commit (adds, removes, promotions, demotions).",
            discussion: """
                The file holds contact names or identity ids, one a line ('#' comments). You stay in the room, and \
                keep your role, whether the file names you or not. With --admins-file, the admins become exactly \
                those (they are made members too); without it, members who stay keep their roles and new ones are \
                plain members. A roster already as the files say makes no commit (exit 0, 'already up to date'). \
                A contact whose changed key is not yet verified or accepted counts as present under its old key; \
                one whose new key was accepted is swapped for its new card.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        @Option(name: .long, help: ArgumentHelp("The members: contact names or ids, one per line.", valueName: "file"), completion: .file())
        var membersFile: String

        @Option(name: .long, help: ArgumentHelp("The admins: contact names or ids, one per line.", valueName: "file"), completion: .file())
        var adminsFile: String?

        @Flag(name: .long, help: "Print the operations the commit would have; change and write nothing.")
        var dryRun = false

        @Flag(name: .long, help: "Add contacts even if a member (or another contact added) has the same handle; listings then show short ids.")
        var allowSameHandle = false

        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let members = try MembersFile.names(membersFile)
            let admins = try adminsFile.map { try MembersFile.names($0) }
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if !dryRun, try staging.stageIfRemote(keyring, room: room, [.members(members, admins: admins)], allowSameHandle: allowSameHandle,
                                                  outbox: bundle.outbox.box, output: output) { return }
            let planned = try keyring.changeIfNeeded(
                room: room, [.members(members, admins: admins)], allowSameHandle: allowSameHandle, dryRun: dryRun, deliver: bundle.delivery)
            let doc = ChangeDocument(planned, dryRun: dryRun)
            // A dry run's plan is the data asked for, so `-q` keeps it.
            if dryRun { output.result(doc) { doc.lines("would change") } } else { output.confirmation(doc) { doc.lines("changed") } }
        }
    }

    /// `roomkey room promote ROOM MEMBER`.
    struct Promote: KeyringCommand {
        static let configuration = CommandConfiguration(commandName: "promote", abstract: "Make a member an admin (admins only).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Argument(help: ArgumentHelp("The member: contact name, handle or id.", valueName: "member")) var member: String
        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if try staging.stageIfRemote(keyring, room: room, [.promote(member)], outbox: bundle.outbox.box, output: output) { return }
            try bundle.checkOutput()
            let result = try keyring.change(room: room, [.promote(member)], deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.confirmation(doc) { doc.lines("promoted \(member) in") }
        }
    }

    /// `roomkey room demote ROOM MEMBER`.
    struct Demote: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "demote", abstract: "Make an admin a plain member (admins only; one admin must remain).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Argument(help: ArgumentHelp("The member: contact name, handle or id.", valueName: "member")) var member: String
        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if try staging.stageIfRemote(keyring, room: room, [.demote(member)], outbox: bundle.outbox.box, output: output) { return }
            try bundle.checkOutput()
            let result = try keyring.change(room: room, [.demote(member)], deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.confirmation(doc) { doc.lines("demoted \(member) in") }
        }
    }

    /// `roomkey room leave ROOM`.
    struct Leave: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "leave",
            abstract: "Leave a room: your keys for it are deleted at once and a signed leave request is written for one admin.",
            discussion: "Give the request to the admin it names (the admin with the lowest id): that admin's next 'roomkey receive' of it removes you in a commit of its own; another admin does not act on it (two removals of one epoch would fork the room). An admin who leaves commits the leave directly (another admin must remain).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring(outbox: bundle.outbox.box)
            if try keyring.isAdmin(of: room),
               try staging.stageIfRemote(keyring, room: room, [.leave], outbox: bundle.outbox.box, output: output) { return }
            try bundle.checkOutput()
            let result = try keyring.leave(room: room, deliver: bundle.delivery)
            let doc = CommitDocument(result)
            guard let admin = result.leaveRequestFor else { return output.confirmation(doc) { doc.lines("left") } }
            // Through a git remote any admin's sync acts on the request (PROTOCOL §5.5, rule 6; an independent check
            // found this line naming one admin there).
            let remote = try keyring.remote(forRoom: doc.roomId)
            output.confirmation(doc) {
                ["left room \(doc.name) (\(doc.roomId)) at epoch \(doc.epoch); your keys for it are deleted",
                 remote.map { "leave request: \(doc.bundle) (published by your next 'roomkey sync \(Output.oneLine($0.name))'; the first admin to sync removes you)" }
                    ?? "leave request: \(doc.bundle) (give it to admin \(Output.oneLine(admin.handle)) (\(admin.id.shortHex)), who removes you; no other admin acts on it)"]
            }
        }
    }

    /// `roomkey room rejoin ROOM`.
    struct Rejoin: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "rejoin",
            abstract: "Take back a room you left, so that a commit adding you again is received.",
            discussion: """
                After 'roomkey room leave' the keyring follows the room's commits and sender keys while you are in \
                its roster, but takes no commit adding you back ('receive' warns of one). This undoes the leave here: the room is no longer marked left, a \
                leave request still in the outbox is withdrawn, and, while you are in the roster this keyring holds, a \
                new sender key is due. Then receive the bundle that adds you back again. A leave request already \
                delivered may still reach its admin, who removes you; ask to be added again then. A forked room is \
                taken back still forked: it distributes nothing until an admin's next commit reaches you. Refused \
                (exit 6) for a room you have not left.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let result = try openKeyring().rejoin(room: room)
            let doc = RejoinDocument(result)
            if result.room.forked {
                output.warn("room \(Output.oneLine(doc.name)) is forked: it distributes nothing until an admin's next commit on the kept branch reaches you")
            }
            for path in doc.stillOut {
                output.warn("the leave request written to \(Output.oneLine(path)) is no longer there as written: it may be on its way to the admin, who then removes you",
                            hint: "if you are removed, ask an admin to add you again")
            }
            output.confirmation(doc) {
                let lines: [String?] = ["rejoined room \(Output.oneLine(doc.name)) (\(doc.roomId)) at epoch \(doc.epoch)"
                    + (doc.keyDue ? "; a new sender key is due (sent by your next command that settles the outbox, or 'encrypt')" : ""),
                    doc.withdrawn > 0 ? "withdrew \(plural(doc.withdrawn, "leave request")) from the outbox" : nil]
                    + doc.removed.map { "removed \(Output.oneLine($0))" }
                    + [doc.member ? nil : "you are not in the roster this keyring holds: receive the bundle that adds you back"]
                return lines.compactMap { $0 }
            }
        }
    }

    /// `roomkey room rotate ROOM`.
    struct Rotate: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate", abstract: "Make a new sender-key generation in the current epoch and distribute it.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            try bundle.checkOutput()
            let result = try openKeyring(outbox: bundle.outbox.box).rotate(room: room, deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.confirmation(doc) { doc.lines("rotated your sender key in") }
        }
    }
}
