import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey apply SCRIPT`.
    struct Apply: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Apply a batch membership script: one commit and one bundle per room, all checked first.",
            discussion: """
                One change a line: 'VERB ROOM [ARG...]' with verbs create (contacts may follow), add (with \
                --if-missing: skip contacts already in), remove (with --if-present: skip non-members), promote, \
                demote, rotate, replace (swap a contact's changed key), members (the roster made exactly the names \
                given, and the admins those after --admins; you stay); '#' starts a comment. A room whose lines ask \
                for nothing new is already up to date: no commit, no bundle. The whole script is checked before anything changes: an unknown \
                verb, or a change the membership log would refuse, exits 65 naming the line, and nothing is applied; \
                a room or contact this keyring does not have exits 4 naming the line, as the direct command does. \
                A line the rules refuse (removing a non-member, adding a member) exits 6 naming the line, \
                as the direct command does. A line that would put two identities with the same handle in a room exits 6 \
                naming the line, unless --allow-same-handle is given. All changes to one room become one commit and \
                one bundle. A room with a git remote gets its change staged instead ('staged' names the remote) and, \
                unless --no-sync, published by a sync; exit 5 when it is still staged after the sync.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The script file, or - for standard input.", valueName: "script"), completion: .file())
        var script: String

        @OptionGroup var outbox: OutboxOption

        @Flag(name: .long, help: "Check the script and print the plan; change and write nothing.")
        var dryRun = false

        @Flag(name: .long, help: "Let add and create lines add contacts whose handle a member already has; listings then show short ids.")
        var allowSameHandle = false

        @OptionGroup var staging: StagingOptions

        func execute(_ output: Output) throws {
            let text = try InputFiles.readText(script, limit: 64 * 1024 * 1024, what: "script")
            let parsed = try ApplyScript(parsing: text)
            let box = outbox.box
            let keyring = try openKeyring(outbox: box)
            let rooms = try keyring.apply(parsed, dryRun: dryRun, allowSameHandle: allowSameHandle) { try box.name($0) }
            var docs = rooms.map(RoomDocument.init)
            // Rooms with a git remote staged their change: unless --no-sync, publish it now.
            var dropped: [DroppedChange] = []
            for remote in Set(rooms.compactMap(\.staged)).sorted() where !staging.noSync {
                let report = try keyring.sync(remote: remote, stateFolder: GlobalOptions.stateFolder) { try box.name($0) }
                let waiting = Set(try keyring.stagedIntents().map(\.roomID.hex))
                dropped += report.dropped
                for (i, d) in docs.enumerated() where d.staged == remote && !waiting.contains(d.roomId ?? "") {
                    guard let p = report.published.last(where: { $0.roomID.hex == d.roomId }) else { continue }
                    docs[i].published(epoch: p.epoch, bundle: "\(remote):" + RemoteLayout.commitPath(room: p.roomID.hex, epoch: p.epoch))
                }
            }
            // A dry run's plan is the data asked for, so `-q` keeps it.
            (dryRun ? output.result : output.confirmation)(ApplyDocument(dryRun: dryRun, rooms: docs)) {
                docs.flatMap { d in
                    if d.upToDate { return ["\(d.name) is already up to date at epoch \(d.epoch)"] }
                    let said = d.changes.map { c in [c.op] + [c.handle, c.id.map { "(\($0))" }].compactMap { $0 } }
                        .map { $0.joined(separator: " ") }
                    // A plain rotation makes a new sender key, no commit (a review: it said "committed").
                    if d.operations == ["rotate"] {
                        return [(dryRun ? "would rotate " : "rotated ") + "\(d.name) at epoch \(d.epoch)"] + (d.bundle.map { ["  bundle: \($0)"] } ?? [])
                    }
                    let verb = dryRun ? "would commit " : d.staged.map { "staged for remote \($0): " } ?? "committed "
                    return [verb + "\(d.name) epoch \(d.epoch): \(said.joined(separator: ", "))"]
                        + (d.bundle.map { ["  bundle: \($0)"] } ?? [])
                }
            }
            for d in dropped { output.warn("dropped in room \(Output.oneLine(d.name)): \(d.operation.verb) \(d.operation.subject?.hex ?? ""): \(d.reason)") }
            if !staging.noSync, docs.contains(where: { $0.staged != nil }) {
                output.warn("some changes are staged but not published yet", hint: "run 'roomkey sync' to publish them")
                throw ExitCode(ExitStatus.pending)
            }
        }

        struct ApplyDocument: Encodable { let dryRun: Bool, rooms: [RoomDocument] }

        struct RoomDocument: Encodable {
            /// One operation and whom it is about.
            struct Change: Encodable { let op: String, id: String?, handle: String? }
            let name: String, roomId: String?, operations: [String], changes: [Change], upToDate: Bool
            var epoch: UInt64, bundle: String?, staged: String?
            init(_ r: AppliedRoom) {
                upToDate = r.upToDate
                name = r.name
                roomId = r.roomID?.hex
                epoch = r.epoch
                // A plain rotation (a `rotate` line, no commit) is named as its verb too (review r: `operations` was empty).
                let rotation = r.changes.isEmpty && !r.upToDate
                operations = rotation ? ["rotate"] : r.operations
                changes = rotation ? [Change(op: "rotate", id: nil, handle: nil)]
                    : r.changes.map { Change(op: $0.verb, id: $0.id?.hex, handle: $0.handle) }
                bundle = r.bundle
                staged = r.staged
            }

            /// The staged change was published as `epoch` at `bundle` (remote:path).
            mutating func published(epoch: UInt64, bundle: String) {
                (self.epoch, self.bundle, staged) = (epoch, bundle, nil)
            }
        }
    }

    /// `roomkey offboard CONTACT`.
    struct Offboard: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "offboard",
            abstract: "Remove a contact from every room you administer, one commit and one bundle per room.",
            discussion: """
                Rooms where you are not an admin are listed as needing another admin; the command then exits 1 after \
                doing the rest. In a room with a git remote the removal is staged and synced: 'removed' only once it \
                was published (or the key was already gone and no key of the contact is left), 'staged' and exit 5 \
                while it waits, 'failed' with the reason when it was dropped.
                """)

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
            let targets = Dictionary(results.compactMap { r -> (String, (String, [IdentityID]))? in
                if case let .staged(remote, ids) = r.outcome { (r.roomID.hex, (remote, ids)) } else { nil }
            }, uniquingKeysWith: { a, _ in a })
            let keys = Set(try [keyring.contact(named: contact).id] + keyring.keyHistory(named: contact).map(\.card.id))
            for remote in Set(targets.values.map(\.0)).sorted() {
                let report = try keyring.sync(remote: remote, stateFolder: GlobalOptions.stateFolder) { try box.name($0) }
                let waiting = Set(try keyring.stagedIntents().map(\.roomID.hex))
                for (i, d) in docs.enumerated() where d.status == "staged" && targets[d.roomId]?.0 == remote {
                    docs[i] = try Self.outcome(d, targets: targets[d.roomId]?.1 ?? [], keys: keys, contact: contact, remote: remote,
                                               report: report, stillStaged: waiting.contains(d.roomId), keyring: keyring)
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
            for d in docs where d.status == "failed" {
                output.partFailed("\(SafeText.quotedList([contact])) was not removed from \(SafeText.quotedList([d.name])) (\(d.roomId)): \(d.error ?? "failed")")
            }
            if docs.contains(where: { $0.status != "removed" }) { throw ExitCode(ExitStatus.failure) }
        }

        /// A staged room's row after sync: "removed" only when the removal of every target was published, or dropped
        /// because the target is gone already, and no key of the contact is left in the room; "staged" while it waits;
        /// "failed" (with the reason) when it was dropped for another reason.
        static func outcome(_ d: ResultDocument, targets: [IdentityID], keys: Set<IdentityID>, contact: String, remote: String,
                            report: SyncReport, stillStaged: Bool, keyring: Keyring) throws -> ResultDocument {
            let published = report.published.filter { $0.roomID.hex == d.roomId }
            let dropped = report.dropped.filter { $0.roomID.hex == d.roomId }
            func removal(_ op: RoomKeyCore.Operation) -> IdentityID? { if case let .remove(id) = op { id } else { nil } }
            let byUs = targets.filter { t in published.contains { $0.operations.contains(.remove(t)) } }
            let gone = targets.filter { t in dropped.contains { $0.done && removal($0.operation) == t } }
            let left = try keyring.room(d.roomId).state.roster.sortedIDs.contains { keys.contains($0) }
            if !targets.isEmpty, Set(byUs + gone) == Set(targets), !left {
                let epoch = byUs.isEmpty ? nil : published.last { p in byUs.contains { p.operations.contains(.remove($0)) } }?.epoch
                return ResultDocument(room: d.name, roomId: d.roomId, status: "removed", epoch: epoch,
                                      bundle: epoch.map { "\(remote):" + RemoteLayout.commitPath(room: d.roomId, epoch: $0) },
                                      error: byUs.isEmpty ? "another admin removed \(contact) first" : nil)
            }
            if stillStaged && report.stillStaged > 0 { return d }
            let why = dropped.first { removal($0.operation).map(targets.contains) == true }?.reason
                ?? (left ? "\(contact) is still a member" : "the removal was not published")
            return ResultDocument(room: d.name, roomId: d.roomId, status: "failed", epoch: nil, bundle: nil, error: Output.oneLine(why))
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
