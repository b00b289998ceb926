import Foundation
import GRDB
import Testing
@testable import RoomKey
import RoomKeyTestSupport

/// `KeyringTables` names every table of a keyring as checked before use or not, and PROTOCOL §7b says the same: a
/// table added without deciding whether it is checked fails here.
@Suite(.temporaryFolder) struct KeyringTablesTests {
    /// The tables of a new keyring are exactly the tables the registry lists.
    @Test func everyTableOfANewKeyringIsListed() throws {
        let fresh = try KeyringTests.create(passphrase: nil)
        let tables = try fresh.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        }
        #expect(Set(tables) == Set(KeyringTables.rules.keys))
        #expect(tables.count == KeyringTables.rules.count)
    }

    /// Every table sealed under the row key, which `restore` opens row by row, is listed too.
    @Test func everySealedTableIsListed() {
        for (table, _, _) in Keyring.sealedTables { #expect(KeyringTables.rules[table] != nil, "\(table)") }
    }

    /// PROTOCOL §7b names the checked tables in one paragraph and then the others, each exactly once.
    @Test func protocolSectionNamesTheSameTables() throws {
        let doc = try String(contentsOf: fixtureURL("../docs/PROTOCOL.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "Before a decision rests on one of these tables")).lowerBound
        let middle = try #require(doc.range(of: "The other tables are not checked before use", range: start..<doc.endIndex))
        let end = try #require(doc.range(of: "A mismatch refuses the", range: middle.upperBound..<doc.endIndex)).lowerBound
        func tables(_ text: Substring) -> [String] {
            text.components(separatedBy: "`").enumerated().compactMap { i, word in
                i % 2 == 1 && KeyringTables.rules[word] != nil ? word : nil
            }
        }
        let checked = tables(doc[start..<middle.lowerBound]), unchecked = tables(doc[middle.upperBound..<end])
        #expect(Set(checked) == KeyringTables.checked)
        #expect(Set(unchecked) == Set(KeyringTables.rules.keys).subtracting(KeyringTables.checked))
        #expect(Set(unchecked).count == unchecked.count)
    }

    /// Each table left unchecked says why.
    @Test func everyUncheckedTableGivesItsReason() {
        for (table, rule) in KeyringTables.rules {
            if case .notChecked(let reason) = rule { #expect(reason.count > 20, "\(table)") }
        }
    }
}
