import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore
import Synchronization

extension RoomKeyCommand {
    /// `roomkey room`: rooms and their signed membership logs.
    struct RoomCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "room",
            abstract: "Create rooms, change their membership, rotate keys, and inspect their logs.",
            discussion: """
                Every membership change is a signed commit that starts a new epoch. The command writes one bundle \
                for the whole room: the commit and this member's new sender key, sealed to every member of the new \
                roster. Send the same bundle file to every member; they apply it with 'roomkey receive'.
                """,
            subcommands: [Create.self, Add.self, Remove.self, Replace.self, Members.self, Promote.self, Demote.self, Leave.self, Rejoin.self, Forget.self, Rotate.self, Settings.self,
                          List.self, Show.self, Log.self, Fingerprint.self, Report.self, Resolve.self])
    }
}

/// The outbox folder option, shared by every command that writes bundles.
struct OutboxOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Write bundles into this folder under unique, sortable names.",
        discussion: "Default: $ROOMKEY_OUTBOX, else $XDG_STATE_HOME/roomkey/outbox, else ~/.local/state/roomkey/outbox.", valueName: "dir"), completion: .directory)
    var outbox: String?

    /// The outbox the option names.
    var box: Outbox { Outbox(path: outbox) }
}

/// Where produced bundles go: `-o FILE`, else the outbox folder.
struct BundleOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the bundle to this file ('-': standard output).", valueName: "bundle"), completion: .file())
    var output: String?

    @Flag(name: .long, help: "Replace an existing file at the -o path.")
    var force = false

    @OptionGroup var outbox: OutboxOption

    /// Refuses early what `delivery` would refuse of the `-o` path (a file there without --force, a folder, a
    /// terminal), before anything is sealed: in a room of 10,000 members the refusal came after every stanza was made.
    /// Commands call it once a commit is certain (not for `--if-present`, `--if-missing` or a staged change).
    func checkOutput() throws {
        guard let output else { return }
        try OutputFile.check(output, force: force)
        try OutputFile.checkBinary(output)
    }

    /// Names the bundle's file for the library's outbox: `-o FILE`, else the next name in the outbox folder. The file
    /// is written only after the change is committed.
    var delivery: BundleDelivery {
        { bundle in
            if let output {
                try checkOutput()
                if output == OutputFile.standardOutput { Outbox.standardOutputNamed = true }
                let path = Outbox.absolute(output)
                Outbox.namedHere.withLock { $0[path] = force || $0[path] == true }
                return path
            }
            return try outbox.box.name(bundle)
        }
    }
}

/// The outbox folder and its naming scheme: `<UTC time>-<microseconds>-<room id prefix>-e<epoch>-<random>.roomkey`.
struct Outbox {
    let folder: String

    init(path: String?) {
        let env = ProcessInfo.processInfo.environment["ROOMKEY_OUTBOX"]
        // Absolute, so an entry recorded now is written to the same place by a later command run elsewhere.
        folder = Outbox.absolute(path ?? ((env?.isEmpty == false ? env : nil) ?? GlobalOptions.stateFolder + "/outbox"))
    }

    /// The file a new bundle goes to: a fresh, sortable name in the folder (created, mode 0700, when missing).
    func name(_ bundle: BundleOutput) throws -> String {
        if let code = Self.makeFolder(folder) { throw OutputError.cannotWrite(path: folder, reason: String(cString: strerror(code)).lowercased()) }
        let random = (try? SystemRandom().bytes(3)).map(Hex.encode) ?? "000000"
        let name = "\(Outbox.stamp(Date().timeIntervalSince1970))-\(bundle.roomID.hex.prefix(8))-e\(bundle.epoch)-\(random).roomkey"
        return (folder as NSString).appendingPathComponent(name)
    }

    /// Creates `path` and its missing parents, each mode 0700, as `mkdir -p` does; nil when it is a folder in the end,
    /// else the system's error (a file in the way: ENOTDIR; a read-only folder: EACCES or EROFS), so the message says why.
    static func makeFolder(_ path: String) -> Int32? {
        var info = stat()
        if stat(path, &info) == 0 { return info.st_mode & S_IFMT == S_IFDIR ? nil : ENOTDIR }
        let parent = PathName.parent(path)
        if !parent.isEmpty, parent != path, let code = makeFolder(parent) { return code }
        if mkdir(path, 0o700) != 0, errno != EEXIST { return errno }
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR ? nil : ENOTDIR
    }

    /// The time part of a file name, `20261202T141740Z-123456`: the UTC time to the second, then the microseconds
    /// within it, both cut (never rounded), so names sort as their times do.
    static func stamp(_ time: TimeInterval) -> String {
        let micros = Int64((time * 1_000_000).rounded(.down))
        let (seconds, rest) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        let t = CommandClock.utc(rest < 0 ? seconds - 1 : seconds)
        let pad = CommandClock.pad
        return "\(pad(t.year, 4))\(pad(t.month, 2))\(pad(t.day, 2))T\(pad(t.hour, 2))\(pad(t.minute, 2))\(pad(t.second, 2))Z-"
            + pad(Int(rest < 0 ? rest + 1_000_000 : rest), 6)
    }

    /// `path` made absolute against the working folder (`-` stays standard output).
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") || path == OutputFile.standardOutput { return path }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            .standardizedFileURL.path
    }

    /// True once this process named standard output (`-o -`) for a bundle.
    nonisolated(unsafe) static var standardOutputNamed = false
    /// The `-o` paths this process named for bundles, each with whether `--force` came with it: only those replace a
    /// regular file at write time.
    static let namedHere = Mutex<[String: Bool]>([:])

    /// True when `path` exists and is no regular file (a FIFO, a device, a socket): written in place, never read.
    static func isInPlace(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT != S_IFREG && st.st_mode & S_IFMT != S_IFDIR
    }

    /// The keyring's sink: names files in this folder; writes each entry under the output-file rules, after its
    /// transaction committed. A path this process named was checked then (an existing file only with --force), so the
    /// write replaces with --force, and otherwise refuses a file that appeared since; one an earlier, interrupted command named is written only where nothing is now, links not
    /// followed. A file that already holds the entry's bytes is an interrupted write, confirmed as it is. An entry meant
    /// for the standard output of an earlier, interrupted command is not printed here ('outbox resend' makes it again).
    var sink: BundleSink {
        BundleSink(name: name, write: { path, bytes in
            if path == OutputFile.standardOutput {
                guard Outbox.standardOutputNamed else {
                    throw BundleSink.Dropped(reason: "a bundle for the standard output of an interrupted command cannot be written there")
                }
                try OutputFile.write(Data(bytes), to: path, force: true)
                return
            }
            // A FIFO or device that an earlier, interrupted command named is not written again: no reader may ever come,
            // and waiting for one would hang this command and every later one ('outbox resend' makes the bundle again).
            let named = Outbox.namedHere.withLock { $0[path] }
            let namedNow = named != nil
            if namedNow {
                if !Outbox.isInPlace(path), let existing = FileManager.default.contents(atPath: path), existing.elementsEqual(bytes) { return }
            } else {
                // Named by an earlier, interrupted command, and checked then, not now: whatever is at the path since (a
                // file of the user's, a link someone planted in a shared folder, a FIFO or device that may never get a
                // reader) is neither replaced nor followed (a hostile review found both written over). Only the entry's
                // own bytes in a regular file, left by a run killed after its write, confirm it.
                var st = stat()
                if lstat(path, &st) == 0 {
                    if Outbox.holdsExactly(path, bytes) { return }
                    let kind = [S_IFIFO, S_IFCHR, S_IFBLK].contains(st.st_mode & S_IFMT) ? "a FIFO or device " : ""
                    // What the interrupted run left beside it (its temporary file, no live writer) goes now.
                    TemporaryFile.removeLeftovers(in: PathName.parent(path))
                    throw BundleSink.Dropped(reason: "a bundle for \(path), \(kind)named by an interrupted command, was not written there: something else is there now")
                }
            }
            // The entry's bytes are written from where they are: a copy into a Data of its own is a bundle's size (12 MB
            // for 10,000 X-Wing stanzas) of fresh memory.
            do {
                try bytes.withUnsafeBytes { raw in
                    let view = raw.baseAddress.map { Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: raw.count, deallocator: .none) } ?? Data()
                    // Not named now: only a new file, refused if anything (a FIFO too) appeared at the name since the lstat.
                    // Named now without --force: a file that appeared at the name since the check is refused, not replaced
                    // (a review: it was renamed over), as `encrypt -o` and `backup -o` do.
                    #if DEBUG
                    // Test builds: a file appears at the name between the check and the write (the race, made certain).
                    if ProcessInfo.processInfo.environment["ROOMKEY_TEST_APPEAR"] == path {
                        FileManager.default.createFile(atPath: path, contents: Data("appeared\n".utf8))
                    }
                    #endif
                    try OutputPath.write(view, to: path, replace: named == true, sweep: OutputFile.sweep, followLinks: namedNow,
                                         inPlace: namedNow)
                }
            } catch OutputFileError.exists {
                // Another roomkey process wrote this entry first (two commands flushing one outbox at once): its own bytes
                // in a regular file are the entry written, as PROTOCOL 7a says (a hostile review saw the loser of that
                // race report its bundle as not written).
                guard Outbox.holdsExactly(path, bytes) else { throw OutputFileError.exists(path: path) }
            }
        }, withdraw: Outbox.removeIfUnchanged)
    }

    /// True when `path` is a regular file holding exactly `bytes`: checked with `lstat`, then read without following a
    /// link and without waiting on a FIFO put there since.
    static func holdsExactly(_ path: String, _ bytes: [UInt8]) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) == bytes.count,
              let existing = try? InputFiles.read(path, limit: bytes.count, what: "bundle", followLinks: false) else { return false }
        return existing.elementsEqual(bytes)
    }

    /// Removes `path` when it is a regular file holding exactly `bytes` (not followed through a link), and syncs its
    /// folder; true when it did.
    static func removeIfUnchanged(_ path: String, _ bytes: [UInt8]) -> Bool {
        guard path != OutputFile.standardOutput, holdsExactly(path, bytes), unlink(path) == 0 else { return false }
        try? OutputPath.syncFileSystem(of: PathName.parent(path))
        return true
    }
}

/// Reads contact names from `--members-file` (one per line, `#` comments).
enum MembersFile {
    static func names(_ path: String?) throws -> [String] {
        guard let path else { return [] }
        // The file is named, as a card file is: "members file is invalid" did not say which (a CLI review).
        let what = "members file \(path)"
        let text = try InputFiles.readText(path, limit: 16 * 1024 * 1024, what: what)
        try EntryLines.requireAtMost(Roster.maxMembers, in: text, what: what)
        return EntryLines.entries(in: text)
    }
}

/// The JSON and text result of a command that wrote a bundle.
struct CommitDocument: Encodable {
    let roomId: String
    let name: String
    let epoch: UInt64
    let head: String
    let bundle: String
    let recipients: Int
    /// For a member's leave request: the admin to give it to.
    let adminId: String?
    let adminHandle: String?

    init(_ r: CommitResult) {
        roomId = r.room.id.hex
        name = r.room.name
        epoch = r.room.state.epoch
        head = Hex.encode(r.room.state.head)
        bundle = r.bundlePath
        recipients = r.recipientCount
        adminId = r.leaveRequestFor?.id.hex
        adminHandle = r.leaveRequestFor?.handle
    }

    func lines(_ verb: String) -> [String] {
        ["\(verb) room \(name) (\(roomId)), now at epoch \(epoch)", "bundle: \(bundle) (sealed to \(plural(recipients, "recipient")))"]
    }
}

/// The JSON and text result of `room rejoin`.
struct RejoinDocument: Encodable {
    let roomId: String
    let name: String
    let epoch: UInt64
    /// True when this member is in the roster held here.
    let member: Bool
    /// True when a new sender key is due.
    let keyDue: Bool
    /// Leave requests withdrawn from the outbox.
    let withdrawn: Int
    /// Files of leave requests written already and removed.
    let removed: [String]
    /// Files of leave requests written already that are no longer there as written (they may reach the admin).
    let stillOut: [String]
    /// True when the room is forked: taken back, it distributes nothing until an admin's next commit reaches it.
    let forked: Bool

    init(_ r: RejoinResult) {
        roomId = r.room.id.hex
        forked = r.room.forked
        name = r.room.name
        epoch = r.room.state.epoch
        member = r.newKeyDue
        keyDue = r.room.rotationDue
        withdrawn = r.withdrawn
        removed = r.removed
        stillOut = r.stillOut
    }
}

/// The JSON and text result of a change that may commit nothing (`--if-missing`, `--if-present`, `replace`, `members`):
/// the commit's fields when one was made, the operations, and whether the room was already up to date.
struct ChangeDocument: Encodable {
    struct Op: Encodable { let op: String, id: String, handle: String? }
    let roomId: String
    let name: String
    let epoch: UInt64
    let head: String
    let bundle: String?
    let recipients: Int?
    let operations: [Op]
    let upToDate: Bool
    let dryRun: Bool

    init(_ p: PlannedChange, dryRun: Bool) {
        let room = p.commit?.room ?? p.room
        roomId = room.id.hex
        name = room.name
        epoch = room.state.epoch
        head = Hex.encode(room.state.head)
        bundle = p.commit?.bundlePath
        recipients = p.commit?.recipientCount
        let handles = Dictionary(p.room.state.roster.sorted.map { ($0.id, $0.card.handle) }, uniquingKeysWith: { a, _ in a })
        operations = p.operations.map { op in
            if case let .add(card) = op { return Op(op: op.verb, id: card.id.hex, handle: card.handle) }
            let id = op.subject
            return Op(op: op.verb, id: id?.hex ?? "", handle: id.flatMap { handles[$0] })
        }
        upToDate = p.operations.isEmpty
        self.dryRun = dryRun
    }

    func lines(_ verb: String) -> [String] {
        if upToDate { return ["room \(name) (\(roomId)) is already up to date at epoch \(epoch)"] }
        let ops = operations.map { "  \($0.op) \($0.handle.map { "\($0) " } ?? "")(\($0.id))" }
        guard let bundle, let recipients else { return ["\(verb) room \(name) (\(roomId)) at epoch \(epoch + 1):"] + ops }
        return ["\(verb) room \(name) (\(roomId)), now at epoch \(epoch)"] + ops + ["bundle: \(bundle) (sealed to \(plural(recipients, "recipient")))"]
    }
}

/// "1 recipient", "3 recipients".
func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
