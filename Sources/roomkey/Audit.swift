import ArgumentParser
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey audit [--verify]`.
    struct Audit: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "List the keyring's audit log, or check its chain and every entry's integrity.",
            discussion: """
                Every change to the keyring (init, contacts, verification, commits made and applied, bundles made and \
                received, rotations, prunes, passphrase changes, restores) appends a sealed, hash-chained entry. \
                --verify checks every entry and the chain up to the recorded head, and exits 2 naming the first bad entry.
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(name: .long, help: "Check the chain, every entry, and every table's rows against the keyring's sealed digest; exit 2 on any break.")
        var verify = false

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            if verify {
                let count = try keyring.verifyAudit()
                let tables = try keyring.verifyRows()
                output.confirmation(VerifyDocument(entries: count, intact: true, tables: tables)) {
                    ["audit log intact: \(count) entries; the rows of all \(tables) tables match their sealed digest"]
                }
                return
            }
            let entries = try keyring.auditEntries()
            output.result(["entries": entries.map(EntryDocument.init)]) {
                entries.map { "\($0.seq)  \(CommandClock.iso8601($0.time))  \($0.event.rawValue.padding(18))  \($0.detail)" }
            }
        }

        struct VerifyDocument: Encodable { let entries: Int, intact: Bool, tables: Int }

        struct EntryDocument: Encodable {
            let seq: Int64, time: String, event: String, detail: String
            init(_ e: AuditEntry) {
                seq = e.seq
                time = CommandClock.iso8601(e.time)
                event = e.event.rawValue
                detail = e.detail
            }
        }
    }
}
