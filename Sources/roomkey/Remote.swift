import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey remote`: git remotes that deliver bundles and order each room's log.
    struct RemoteCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remote",
            abstract: "Add, list and remove the git remotes that carry this keyring's bundles.",
            discussion: """
                A remote is any URL the system git understands (a bare repository on disk, ssh://, https://, \
                git://); authentication is git's own. The repository holds only sealed bundles under hex names \
                (docs/PROTOCOL.md §9). With one remote every room uses it; with several, the first added is the \
                default and 'roomkey room set ROOM --remote NAME' picks another. Remotes are stored sealed in the \
                keyring; the local mirror lives in $XDG_STATE_HOME/roomkey/remotes/NAME-HASH (HASH depends on the \
                identity and the URL). A URL must not hold a password: let a git credential helper supply it. URLs \
                are shown with the user part of a non-ssh URL replaced by '***'.
                """,
            subcommands: [Add.self, List.self, Remove.self])

        /// `roomkey remote add NAME URL`.
        struct Add: KeyringCommand {
            static let configuration = CommandConfiguration(
                commandName: "add", abstract: "Add a git remote; 'roomkey sync' then publishes and receives through it.")

            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("A name for the remote: letters, digits, '.', '_' or '-'.", valueName: "name")) var name: String
            @Argument(help: ArgumentHelp("The repository's URL, as git takes it.", valueName: "url")) var url: String

            func execute(_ output: Output) throws {
                let info = try openKeyring().addRemote(name: name, url: url)
                let doc = RemoteDocument(info)
                output.confirmation(doc) { ["added remote \(info.name) (\(Output.oneLine(doc.url)))", "run 'roomkey sync' to publish and receive"] }
            }
        }

        /// `roomkey remote list`.
        struct List: KeyringCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "Show the remotes, the first added (the default) first.")

            @OptionGroup var global: GlobalOptions

            func execute(_ output: Output) throws {
                let docs = try openKeyring().remotes().map(RemoteDocument.init)
                output.result(["remotes": docs]) {
                    docs.isEmpty ? ["no remotes"] : docs.map { d in
                        "\(d.name)  \(Output.oneLine(d.url))" + (d.lastSynced.map { "  synced at \($0.prefix(12))" } ?? "  never synced")
                    }
                }
            }
        }

        /// `roomkey remote remove NAME`.
        struct Remove: KeyringCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove",
                abstract: "Remove a remote and its local mirror (the repository itself is not touched).",
                discussion: """
                    Refused (exit 6, naming the room) while a room on the remote has changes staged for it or a commit \
                    being pushed: run 'roomkey sync NAME' first, or give --force to delete them (recorded in the audit log).
                    """)

            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("The remote's name.", valueName: "name")) var name: String
            @Flag(name: .long, help: "Delete the changes still staged for rooms on this remote.") var force = false

            func execute(_ output: Output) throws {
                try RemoteAddress.validateName(name)
                let keyring = try openKeyring()
                let info = try keyring.removeRemote(name: name, force: force)
                try keyring.removeMirror(info, stateFolder: GlobalOptions.stateFolder)
                output.confirmation(RemoteDocument(info)) { ["removed remote \(info.name)"] }
            }
        }

        /// A remote as `remote` commands print it (the URL redacted).
        struct RemoteDocument: Encodable {
            let name: String, url: String, added: UInt64, lastSynced: String?
            init(_ r: RemoteInfo) {
                name = r.name
                url = RemoteAddress.redacted(r.url)
                added = r.added
                lastSynced = r.lastSynced
            }
        }
    }
}
