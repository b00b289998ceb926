import Foundation
import GRDB
import Testing
@testable import RoomKey
@testable import RoomKeyCore
import RoomKeyTestSupport

/// Disk work done ahead of a large seal (`Keyring+WriteAhead`): pages written to the log before their transaction
/// commits land with it or not at all, and the keyring reopens whole either way.
@Suite(.temporaryFolder) struct WriteAheadTests {
    struct Refused: Error {}

    /// The keyring at `keyring.path`, opened again from its file (the first connection closed).
    static func reopened(_ keyring: Keyring) throws -> Keyring {
        try Keyring.open(path: keyring.path, passphrase: KeyringTests.secret(""), random: SystemRandom())
    }

    static func walSize(_ keyring: Keyring) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: keyring.path + "-wal"))?[.size] as? Int) ?? 0
    }

    @Test func pagesWrittenAheadGoWithARolledBackTransaction() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let before = try keyring.auditEntries().count
        let wal = Self.walSize(keyring)
        #expect(throws: Refused.self) {
            try keyring.write { db in
                for i in 0..<200 { try keyring.audit(db, .rotation, "entry \(i) " + String(repeating: "x", count: 400)) }
                try keyring.writePagesAhead(db)
                throw Refused()
            }
        }
        #expect(Self.walSize(keyring) > wal, "the pages reached the log before the transaction ended")
        #expect(try keyring.auditEntries().count == before)
        let again = try Self.reopened(keyring)
        #expect(try again.auditEntries().count == before)
        #expect(try again.verifyAudit() == before)
        _ = try again.verifyRows()
    }

    @Test func pagesWrittenAheadCommitWithTheRest() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let before = try keyring.auditEntries().count
        try keyring.write { db in
            for i in 0..<100 { try keyring.audit(db, .rotation, "early \(i) " + String(repeating: "y", count: 400)) }
            try keyring.writePagesAhead(db)
            for i in 0..<100 { try keyring.audit(db, .rotation, "late \(i)") }
        }
        let again = try Self.reopened(keyring)
        #expect(try again.auditEntries().count == before + 200)
        #expect(try again.verifyAudit() == before + 200)
        _ = try again.verifyRows()
    }

    /// A process killed after the flush and before the commit leaves the keyring file and a log whose last frames carry
    /// no commit: copied at that instant (what a kill leaves on disk), the keyring opens at its old state, whole.
    @Test func aKillAfterTheFlushLeavesTheOldState() throws {
        let keyring = try KeyringTests.create(passphrase: nil)
        let before = try keyring.auditEntries().count
        let copy = try temporaryPath("killed.sqlite")
        try FileManager.default.createDirectory(atPath: (copy as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try keyring.write { db in
            for i in 0..<200 { try keyring.audit(db, .rotation, "entry \(i) " + String(repeating: "z", count: 400)) }
            try keyring.writePagesAhead(db)
            for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: keyring.path + suffix, toPath: copy + suffix) }
        }
        #expect(try keyring.auditEntries().count == before + 200)
        let killed = try Keyring.open(path: copy, passphrase: KeyringTests.secret(""), random: SystemRandom())
        #expect(try killed.auditEntries().count == before)
        #expect(try killed.verifyAudit() == before)
        _ = try killed.verifyRows()
    }

    /// A failed flush is reported by its own code (SQLite leaves the connection's error untouched): a full disk reads
    /// as a full disk.
    @Test func aFailedFlushReportsItsOwnCode() {
        let error = Keyring.cacheFlushError(ResultCode.SQLITE_FULL.rawValue)
        #expect(error.resultCode == .SQLITE_FULL)
        #expect(Keyring.diagnosed(error, path: "/nonexistent/keyring", while: "writing the keyring") as? KeyringError
                == .noSpace(while: "writing the keyring"))
    }
}
