import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey apply SCRIPT`.
    struct Apply: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a batch membership script: one commit and one bundle per room, all checked first.",
            discussion: """
                One change a line: 'VERB ROOM [ARG...]' with verbs create (contacts may follow), add (with \
                --if-missing: skip contacts already in), remove (with --if-present: skip non-members), promote, \
                demote, rotate, replace (swap a contact's changed key), members (the roster made exactly the names \
                given, and the admins those after --admins; you stay); '#' starts a comment. A room whose lines ask \
                for nothing new is already up to date: no commit, no bundle. The whole script is checked before anything changes: an unknown \
                verb, room or contact, or a change the membership log would refuse, exits 65 naming the line, and \
                nothing is applied. A line the rules refuse (removing a non-member, adding a member) exits 6 naming the line, \
                as the direct command does. A line that would put two identities with the same handle in a room exits 6 \
                naming the line, unless --allow-same-handle is given. All changes to one room become one commit and \
                one bundle.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The script file, or - for standard input.", valueName: "script"), completion: .file())
        var script: String

        @OptionGroup var outbox: OutboxOption

        @Flag(name: .long, help: "Check the script and print the plan; change and write nothing.")
        var dryRun = false

        @Flag(name: .long, help: "Let add and create lines add contacts whose handle a member already has; listings then show short ids.")
        var allowSameHandle = false

        func execute(_ output: Output) throws {
            let text = try InputFiles.readText(script, limit: 64 * 1024 * 1024, what: "script")
            let parsed = try ApplyScript(parsing: text)
            let box = outbox.box
            let rooms = try openKeyring(outbox: box).apply(parsed, dryRun: dryRun, allowSameHandle: allowSameHandle) { try box.name($0) }
            let docs = rooms.map(RoomDocument.init)
            // A dry run's plan is the data asked for, so `-q` keeps it.
            (dryRun ? output.result : output.confirmation)(ApplyDocument(dryRun: dryRun, rooms: docs)) {
                docs.flatMap { d in
                    if d.upToDate { return ["\(d.name) is already up to date at epoch \(d.epoch)"] }
                    return [(dryRun ? "would commit " : "committed ") + "\(d.name) epoch \(d.epoch): \(d.operations.isEmpty ? "rotate" : d.operations.joined(separator: ", "))"]
                        + (d.bundle.map { ["  bundle: \($0)"] } ?? [])
                }
            }
        }

        struct ApplyDocument: Encodable { let dryRun: Bool, rooms: [RoomDocument] }

        struct RoomDocument: Encodable {
            let name: String, roomId: String?, epoch: UInt64, operations: [String], bundle: String?, upToDate: Bool
            init(_ r: AppliedRoom) {
                upToDate = r.upToDate
                name = r.name
                roomId = r.roomID?.hex
                epoch = r.epoch
                operations = r.operations
                bundle = r.bundle
            }
        }
    }

    /// `roomkey offboard CONTACT`.
    struct Offboard: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a contact from every room you administer, one commit and one bundle per room.",
            discussion: "Rooms where you are not an admin are listed as needing another admin; the command then exits 1 after doing the rest.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The contact to remove everywhere.", valueName: "contact"))
        var contact: String

        @OptionGroup var outbox: OutboxOption

        func execute(_ output: Output) throws {
            let box = outbox.box
            let keyring = try openKeyring(outbox: box)
            let results = try keyring.offboard(contact: contact) { try box.name($0) }
            var docs = results.map(ResultDocument.init)
            // Rooms with a git remote staged the removal: publish it now, then report each room's outcome.
            let remotes = Set(results.compactMap { if case let .staged(remote) = $0.outcome { remote } else { nil } })
            for remote in remotes.sorted() {
                let report = try keyring.sync(remote: remote, stateFolder: GlobalOptions.stateFolder) { try box.name($0) }
                for (i, d) in docs.enumerated() where d.status == "staged" {
                    if let p = report.published.last(where: { $0.roomID.hex == d.roomId }) {
                        docs[i] = ResultDocument(room: d.name, roomId: d.roomId, status: "removed", epoch: p.epoch, bundle: "\(remote):"
                            + RemoteLayout.commitPath(room: d.roomId, epoch: p.epoch), error: nil)
                    } else if report.dropped.contains(where: { $0.roomID.hex == d.roomId }) {
                        docs[i] = ResultDocument(room: d.name, roomId: d.roomId, status: "removed", epoch: nil, bundle: nil,
                                                 error: "another admin removed \(contact) first")
                    }
                }
            }
            output.confirmation(["results": docs]) {
                docs.isEmpty ? ["\(contact) is in none of your rooms"] : docs.map { d in
                    "\(d.status)  \(d.name) (\(d.roomId))" + (d.epoch.map { " epoch \($0)" } ?? "") + (d.bundle.map { "  bundle: \($0)" } ?? "")
                        + (d.error.map { ": \($0)" } ?? "")
                }
            }
            for d in docs where d.status == "needs-another-admin" {
                output.warn("you are not an admin of \(d.name); \(contact) is still a member there", hint: "ask an admin of \(d.name) to remove \(contact)")
            }
            if docs.contains(where: { $0.status == "staged" }) {
                output.warn("some removals are staged but not published yet", hint: "run 'roomkey sync' again")
                throw ExitCode(ExitStatus.pending)
            }
            if docs.contains(where: { $0.status != "removed" }) { throw ExitCode(ExitStatus.failure) }
        }

        struct ResultDocument: Encodable {
            let name: String, roomId: String, status: String, epoch: UInt64?, bundle: String?, error: String?
            init(room: String, roomId: String, status: String, epoch: UInt64?, bundle: String?, error: String?) {
                (self.name, self.roomId, self.status, self.epoch, self.bundle, self.error) = (room, roomId, status, epoch, bundle, error)
            }
            init(_ r: OffboardResult) {
                name = r.room
                roomId = r.roomID.hex
                switch r.outcome {
                case let .removed(epoch, bundle): (status, self.epoch, self.bundle, error) = ("removed", epoch, bundle, nil)
                case .needsAnotherAdmin: (status, epoch, bundle, error) = ("needs-another-admin", nil, nil, nil)
                case let .failed(e): (status, epoch, bundle, error) = ("failed", nil, nil, Output.oneLine(e.message))
                case .staged: (status, epoch, bundle, error) = ("staged", nil, nil, nil)
                }
            }
        }
    }
}
