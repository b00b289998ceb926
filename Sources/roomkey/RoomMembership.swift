import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room remove ROOM MEMBER...`.
    struct Remove: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove members from a room (admins only); they receive nothing for the new epoch.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions

        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room"))
        var room: String

        @Argument(help: ArgumentHelp("Members to remove: contact name, handle or id.", valueName: "member"))
        var members: [String]

        func execute(_ output: Output) throws {
            let result = try openKeyring(outbox: bundle.outbox.box).change(room: room, [.remove(members)], deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.result(doc) { doc.lines("removed \(members.count) from") }
        }
    }

    /// `roomkey room promote ROOM MEMBER`.
    struct Promote: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "Make a member an admin (admins only).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Argument(help: ArgumentHelp("The member: contact name, handle or id.", valueName: "member")) var member: String

        func execute(_ output: Output) throws {
            let result = try openKeyring(outbox: bundle.outbox.box).change(room: room, [.promote(member)], deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.result(doc) { doc.lines("promoted \(member) in") }
        }
    }

    /// `roomkey room demote ROOM MEMBER`.
    struct Demote: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "Make an admin a plain member (admins only; one admin must remain).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Argument(help: ArgumentHelp("The member: contact name, handle or id.", valueName: "member")) var member: String

        func execute(_ output: Output) throws {
            let result = try openKeyring(outbox: bundle.outbox.box).change(room: room, [.demote(member)], deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.result(doc) { doc.lines("demoted \(member) in") }
        }
    }

    /// `roomkey room leave ROOM`.
    struct Leave: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Leave a room: your keys for it are deleted at once and a signed leave request goes to the admins.",
            discussion: "An admin's next 'roomkey receive' of the request removes you in a commit of its own. An admin who leaves commits the leave directly (another admin must remain).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let result = try openKeyring(outbox: bundle.outbox.box).leave(room: room, deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.result(doc) { doc.lines("left") }
        }
    }

    /// `roomkey room rotate ROOM`.
    struct Rotate: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new sender-key generation in the current epoch and distribute it.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var bundle: BundleOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let result = try openKeyring(outbox: bundle.outbox.box).rotate(room: room, deliver: bundle.delivery)
            let doc = CommitDocument(result)
            output.result(doc) { doc.lines("rotated your sender key in") }
        }
    }
}
