import Foundation
import GRDB
import RoomKeyCore

/// Supplies the passphrase when, and only when, a keyring needs one.
public typealias PassphraseProvider = () throws -> SecretBytes

/// An open, unlocked keyring: a SQLite file whose secrets and personal metadata are sealed under the keyring key.
public final class Keyring {
    /// The keyring file's path.
    public let path: String
    /// The database connection (WAL, busy timeout, immediate write transactions).
    let db: DatabaseQueue
    /// The keyring key itself, kept only to re-wrap it in `changePassphrase`.
    private let masterKey: SymmetricKey
    /// Seals and opens rows.
    let rows: RowCipher
    /// Keys the blind indexes that let rows be found without storing names in clear.
    let tagKey: SymmetricKey
    /// The random source for keys and nonces.
    let random: any RandomSource
    /// The clock, seconds since the Unix epoch.
    public let now: () -> UInt64
    /// True when the keyring key is wrapped under a passphrase.
    public let isPassphraseProtected: Bool
    /// How many bytes of pending bundles a keyring keeps (`maxPendingBytes`; lowered only by tests).
    var pendingByteLimit = Keyring.maxPendingBytes
    /// How many write transactions this object committed (for tests of the batch commands).
    private(set) var committedWrites = 0

    private init(path: String, db: DatabaseQueue, key: consuming SymmetricKey, random: any RandomSource,
                 now: @escaping () -> UInt64, isPassphraseProtected: Bool) {
        self.path = path
        self.db = db
        self.rows = RowCipher(key: key.derive(subkey: 1, context: KDFContext("rkrows01")), random: random)
        self.tagKey = key.derive(subkey: 2, context: KDFContext("rktags01"))
        self.masterKey = key
        self.random = random
        self.now = now
        self.isPassphraseProtected = isPassphraseProtected
    }

    /// The system clock in whole seconds.
    public static func systemClock() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            // WAL is set here rather than with `config.journalMode = .wal`, which makes GRDB create and drop a
            // table on every open whose -wal file is empty: a write that changed the file even for read-only commands.
            // On a keyring already in WAL mode this pragma writes nothing.
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                throw KeyringError.database("could not switch the keyring to WAL mode")
            }
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return config
    }

    /// Creates a keyring with a new identity named `handle`; refuses to replace any existing file.
    ///
    /// `passphrase` nil means `--no-passphrase`: the keyring key is stored unwrapped.
    public static func create(path: String, handle: String, passphrase: PassphraseProvider?,
                              limits: KDFLimits = .interactive, random: any RandomSource,
                              now: @escaping () -> UInt64 = systemClock) throws -> Keyring {
        try Handle.validate(handle)
        let fm = FileManager.default
        for suffix in ["", "-wal", "-journal"] where fm.fileExists(atPath: path + suffix) {
            throw KeyringError.alreadyExists(path: path)
        }
        let key = SymmetricKey.random(using: random)
        let header: KeyringHeader
        if let passphrase {
            let secret = try passphrase()
            if secret.count == 0 { throw KeyringError.emptyPassphrase }
            header = try KeyringHeader.protected(key, passphrase: secret, limits: limits, random: random)
        } else {
            header = KeyringHeader.unprotected(key)
        }
        try KeyringFile.createPrivate(path: path)
        do {
            let db = try DatabaseQueue(path: path, configuration: configuration())
            try KeyringSchema.migrator.migrate(db)
            let keyring = Keyring(path: path, db: db, key: key, random: random, now: now,
                                  isPassphraseProtected: passphrase != nil)
            try keyring.write { db in
                try header.insert(db)
                try keyring.insertNewIdentity(db, handle: handle)
                try keyring.audit(db, .initialize, "created keyring for \(handle)" + (passphrase == nil ? " without passphrase" : ""))
            }
            return keyring
        } catch {
            KeyringFile.remove(path: path)
            throw Keyring.mapped(error)
        }
    }

    /// Opens and unlocks the keyring at `path`, asking `passphrase` only if it is protected.
    public static func open(path: String, passphrase: PassphraseProvider, random: any RandomSource,
                            now: @escaping () -> UInt64 = systemClock) throws -> Keyring {
        guard FileManager.default.fileExists(atPath: path) else { throw KeyringError.notFound(path: path) }
        let db: DatabaseQueue
        let header: KeyringHeader
        do {
            db = try DatabaseQueue(path: path, configuration: configuration())
            header = try KeyringFile.checkedHeader(db, path: path)
        } catch let error as KeyringError {
            throw error
        } catch {
            throw KeyringError.notAKeyring(path: path)
        }
        let key = try header.unwrap(passphrase: passphrase)
        return Keyring(path: path, db: db, key: key, random: random, now: now, isPassphraseProtected: header.needsPassphrase)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: all of it lands, or none.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        var result: T?
        do {
            try db.inTransaction(.immediate) { db in
                result = try body(db)
                return .commit
            }
        } catch {
            throw Keyring.mapped(error)
        }
        committedWrites += 1
        guard let result else { throw KeyringError.database("transaction produced no result") }
        return result
    }

    /// Runs `body` in a read transaction.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch { throw Keyring.mapped(error) }
    }

    static func mapped(_ error: any Error) -> any Error {
        if let db = error as? DatabaseError { return KeyringError.database(db.message ?? "\(db.resultCode)") }
        return error
    }

    /// Replaces the passphrase (or adds one) by re-wrapping the keyring key; no other row changes.
    public func changePassphrase(to newPassphrase: PassphraseProvider, limits: KDFLimits = .interactive) throws {
        let secret = try newPassphrase()
        if secret.count == 0 { throw KeyringError.emptyPassphrase }
        let header = try KeyringHeader.protected(masterKey, passphrase: secret, limits: limits, random: random)
        try automaticPrune()
        try write { db in
            try header.update(db)
            try audit(db, .passphraseChange, "keyring key re-wrapped under a new passphrase")
        }
    }
}

/// Argon2id costs for wrapping the keyring key.
public struct KDFLimits: Sendable {
    /// Operations limit.
    public var opsLimit: UInt64
    /// Memory limit in bytes.
    public var memLimit: UInt64
    /// Makes limits.
    public init(opsLimit: UInt64, memLimit: UInt64) {
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }
    /// libsodium's interactive limits, the default.
    public static let interactive = KDFLimits(opsLimit: Argon2id.interactiveOpsLimit, memLimit: Argon2id.interactiveMemLimit)
}
