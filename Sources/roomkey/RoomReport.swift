import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room report ROOM`.
    struct Report: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Transparency report: per epoch, the commit, who was sent keys in each bundle, the fingerprint and its confirmation; then each member's trust.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let (r, epochs) = try keyring.report(of: room)
            let trust = try keyring.memberTrust(of: r.id.hex).1
            var handles: [IdentityID: String] = [:]
            for e in epochs { for m in e.roster?.sorted ?? [] { handles[m.id] = m.card.handle } }
            // Looked up for every recipient of every bundle: one dictionary by hex id, not a search of `handles`.
            let byHex = Dictionary(uniqueKeysWithValues: handles.map { ($0.key.hex, $0.value) })
            func name(_ hex: String) -> String { byHex[hex] ?? hex }
            // Text tells everyone who was ever in the room apart by short id where handles collide; JSON has the ids.
            let labels = Dictionary(uniqueKeysWithValues: MemberNames.labels(handles.map { ($0.key, $0.value) }).map { ($0.key.hex, $0.value) })
            func label(_ hex: String) -> String { labels[hex] ?? hex }
            // Every handle in a line of text is quoted with a quote inside doubled: chosen by others, none may spell a
            // time, an operation or a role of its own (reviews r and s).
            func quoted(_ hex: String) -> String { SafeText.quotedList([label(hex)]) }
            let doc = ReportDocument(
                roomId: r.id.hex, name: r.name,
                epochs: epochs.map { e in
                    EpochDocument(
                        epoch: e.epoch, author: e.commit.author.hex, authorHandle: handles[e.commit.author], time: e.commit.time,
                        operations: e.commit.operations.map { op in
                            let subject = op.subject ?? e.commit.author
                            return "\(op.verb) \(handles[subject] ?? subject.hex)"
                        },
                        head: Hex.encode(e.commit.head), fingerprint: e.fingerprint, fingerprintConfirmed: e.confirmed,
                        bundles: e.bundles.map { b in
                            let recipients = (e.roster?.sorted ?? []).map(\.id.hex).filter { $0 != b.sender }
                            return BundleDocument(direction: b.made ? "made" : "received", sender: b.sender, senderHandle: name(b.sender),
                                                  recipients: recipients.map(name), commits: b.commits)
                        })
                },
                members: r.state.roster.sorted.map { m in
                    MemberDocument(id: m.id.hex, handle: m.card.handle, admin: m.admin, trust: (trust[m.id] ?? .notContact).rawValue)
                })
            output.result(doc) {
                var lines = ["room \(doc.name) (\(doc.roomId))"]
                for (e, source) in zip(doc.epochs, epochs) {
                    // Handles are chosen by others: quoted with a quote inside doubled, so none can spell an operation of its own.
                    let operations = source.commit.operations.map {
                        "\($0.verb) \(quoted(($0.subject ?? source.commit.author).hex))"
                    }
                    lines.append("epoch \(e.epoch)  by \(quoted(e.author))  \(CommandClock.iso8601(e.time))  \(operations.joined(separator: ", "))")
                    lines.append("  fingerprint \(RoomFingerprint.grouped(e.fingerprint))  \(e.fingerprintConfirmed ? "confirmed" : "not confirmed")")
                    for (b, bundle) in zip(e.bundles, source.bundles) {
                        let recipients = (source.roster?.sorted ?? []).map(\.id.hex).filter { $0 != bundle.sender }.map(label)
                        lines.append("  bundle \(b.direction) from \(quoted(bundle.sender)) to \(recipients.count): \(SafeText.quotedList(recipients))")
                    }
                }
                lines.append("members:")
                lines += doc.members.map { "  \(quoted($0.id))  \($0.admin ? "admin" : "member")  \($0.trust)" }
                return lines
            }
        }

        struct ReportDocument: Encodable { let roomId: String, name: String, epochs: [EpochDocument], members: [MemberDocument] }
        struct EpochDocument: Encodable {
            let epoch: UInt64, author: String, authorHandle: String?, time: UInt64, operations: [String], head: String
            let fingerprint: String, fingerprintConfirmed: Bool, bundles: [BundleDocument]
        }
        struct BundleDocument: Encodable { let direction: String, sender: String, senderHandle: String, recipients: [String], commits: Int }
        struct MemberDocument: Encodable { let id: String, handle: String, admin: Bool, trust: String }
    }
}
