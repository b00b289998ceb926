import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey receive PATH...`.
    struct Receive: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "receive",
            abstract: "Apply bundles: commits in epoch order, members' sender keys, and your own rotation in response.",
            discussion: """
                PATH may be a folder: every regular file in it is read (hidden files are skipped). Each input gets a \
                status: applied, duplicate, pending (kept until its earlier epoch arrives), not-for-me, ignored, \
                rejected or malformed. A file in a folder that is no roomkey input (empty, not a roomkey file, a room \
                message, a partly written .roomkey-tmp-* file, larger than any bundle, or no regular file: a FIFO, a \
                socket, a device or a link to one, which is not opened) is ignored with the reason and does not fail \
                the run; a file named on the command line that is larger than any bundle is malformed. \
                Every good input is applied even when another is bad; the exit code is the worst among them (rejected \
                2, malformed 65, pending 5), and 0 when every input was applied, duplicate, not-for-me or ignored; \
                bundles kept by earlier runs and retried are reported but do not change it, unless one is evidence \
                of a fork or of another branch (exit 2). Each \
                result is printed as it is decided, then the bundles written in response, then a one-line summary; a \
                progress line appears on standard error for long runs when it is a terminal. With -q only errors are \
                printed.
                """)

        static let maxBundleBytes = 256 * 1024 * 1024

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Bundle files or folders of bundles.", valueName: "path"), completion: .file())
        var paths: [String]

        @OptionGroup var outbox: OutboxOption

        /// Inputs larger than this in all are read ahead one by one, each bundle kept as this keyring reads it (its own
        /// stanza only), instead of whole: receiving every member's new sender key of a large room would otherwise
        /// hold all of them at once. Debug builds take another size from `ROOMKEY_TEST_RECEIVE_BUDGET` (bytes), so that
        /// the end-to-end tests' small runs go that way too.
        static let wholeInputBudget: Int = {
            #if DEBUG
            if let text = ProcessInfo.processInfo.environment["ROOMKEY_TEST_RECEIVE_BUDGET"], let size = Int(text) { return size }
            #endif
            return 64 * 1024 * 1024
        }()

        func execute(_ output: Output) throws {
            let files = try expand(paths)
            let report = ReceiveReport(output: output, total: files.count)
            let box = outbox.box
            // Large runs open the keyring first, to know whose stanza to keep; small ones parse while it opens.
            var keyring: Keyring? = nil
            var me: IdentityID? = nil
            var hashingWhole = false
            if Self.totalSize(files) > Self.wholeInputBudget, !files.isEmpty {
                let opened = try openKeyring(outbox: box)
                (keyring, me, hashingWhole) = (opened, try opened.identityCard().id, try opened.holdsWholeFileDigests())
            }
            var inputs: [ReceiveInput] = []
            var unretained: [(index: Int, file: ReadAheadFile)] = []
            func retain(_ next: (index: Int, file: ReadAheadFile), _ me: IdentityID) {
                inputs[next.index] = ReceiveInput(path: next.file.path, read: inputs[next.index], retainingFor: me,
                                                  hashingWhole: hashingWhole, reload: { try next.file.readAgain() })
            }
            var ignored: [ReceiveReport.Line] = []
            var messages = Set<String>()
            for file in files {
                if file.inFolder, StrayInput.isPartialWrite(fileName: (file.path as NSString).lastPathComponent) {
                    ignored.append(report.ignored(file.path, reason: "partly written (a write that has not finished)"))
                    continue
                }
                if file.notUTF8 {
                    ignored.append(report.ignored(file.path, reason: "its name is not valid UTF-8, so roomkey cannot name it; rename it"))
                    continue
                }
                if file.inFolder, !file.regular {
                    ignored.append(report.ignored(file.path, reason: Self.notRegular))
                    continue
                }
                // Only a regular file that stayed the same while it was read is read ahead: it can be read again.
                let before = me == nil ? nil : ReadAheadFile.identify(file.path)
                let read: InputFiles.ReceiveRead
                do {
                    read = try InputFiles.readForReceive(file.path, limit: Self.maxBundleBytes, what: "bundle", regularOnly: file.inFolder)
                } catch InputError.notRegular {
                    ignored.append(report.ignored(file.path, reason: Self.notRegular))
                    continue
                } catch let error as InputError where { if case .device = error { true } else { false } }() {
                    // A device fails alone, unread.
                    let reason = "a device or a socket, which no bundle is"
                    if file.inFolder { ignored.append(report.ignored(file.path, reason: reason)) }
                    else { inputs.append(ReceiveInput(path: file.path, refused: .invalid(what: "input", reason: reason))) }
                    continue
                } catch InputError.tooLarge {
                    // One input larger than any bundle fails alone: the others are still received.
                    let reason = "larger than \(Self.maxBundleBytes) bytes, which no bundle is"
                    if file.inFolder { ignored.append(report.ignored(file.path, reason: reason)) }
                    else { inputs.append(ReceiveInput(path: file.path, refused: .invalid(what: "input", reason: reason))) }
                    continue
                } catch let error as InputError {
                    // An input that is there but cannot be opened or read (its permissions, an I/O error) fails alone
                    // too: every good input is still received (DESIGN 5). Before, it stopped the whole run.
                    let why: String
                    switch error {
                    case let .readFailed(_, reason): why = reason
                    case .unreadable: why = "it could not be opened"
                    default: throw error
                    }
                    let reason = "cannot be read: " + why.prefix(1).lowercased() + why.dropFirst()
                    if file.inFolder { ignored.append(report.ignored(file.path, reason: reason)) }
                    else { inputs.append(ReceiveInput(path: file.path, refused: .invalid(what: "input", reason: reason))) }
                    continue
                }
                let input: ReceiveInput
                switch read {
                case let .followed(read):
                    // A large file that starts like a bundle (so no stray file and no message), its stanza list hashed
                    // as it was read.
                    input = ReceiveInput(path: file.path, followed: read)
                case let .bytes(bytes):
                    if file.inFolder, let reason = StrayInput.reason(bytes) {
                        ignored.append(report.ignored(file.path, reason: reason))
                        continue
                    }
                    if Self.looksLikeMessage(bytes) { messages.insert(file.path) }
                    input = ReceiveInput(path: file.path, bytes: bytes)
                }
                inputs.append(input)
                guard let me, let before, ReadAheadFile.identify(file.path) == before else { continue }
                // Kept whole for two more files: a large one's stanza hash is still being made on another core while
                // the next is read, and waiting for it here would make the reads take turns with the hashing.
                unretained.append((inputs.count - 1, before))
                while unretained.count > 2 { retain(unretained.removeFirst(), me) }
            }
            if let me { for next in unretained { retain(next, me) } }
            // Parsing starts now, on another core, while the keyring opens.
            let batch = ReceiveBatch(inputs)
            inputs = []
            let results = try (keyring ?? openKeyring(outbox: box)).receive(batch, deliver: { try box.name($0) }) { result in
                report.decided(result, looksLikeMessage: messages.contains(result.path))
            }
            report.finish(results, ignored: ignored)
            var unsent = false
            for r in results where r.status == .applied {
                if let error = r.error {
                    output.warn("your new sender key was not sent: \(error.message)", hint: error.hint)
                    // Only a bundle that was made and could not be written fails the run; a rotation a rule refused
                    // (`--require-pq` with a member on a version 1 card) made nothing to write.
                    if error.category == .failure { unsent = true }
                }
            }
            for r in results { if let warning = r.warning { output.warn(warning, hint: nil) } }
            // The inputs decide: bundles kept by earlier runs are reported, but anyone who can send bundles could keep
            // some that are rejected once retried, and a script's valid input then exited 2 (a review). A kept bundle
            // that marked its room forked still counts: the room's state changed (the review of that change).
            let worst = results.filter { !$0.kept || Self.isForkEvidence($0) }.map(\.status).max() ?? .applied
            switch worst {
            case .rejected: throw ExitCode(ExitStatus.rejected)
            case .malformed: throw ExitCode(ExitStatus.malformed)
            case .pending: throw ExitCode(ExitStatus.pending)
            default: break
            }
            // A bundle that could not be written fails the command, as it fails any command that changes a room (the
            // keyring keeps it; the next write or `outbox flush` writes it).
            if unsent { throw ExitCode(ExitStatus.failure) }
        }

        /// The sum of the regular files' sizes (anything else counts nothing here).
        static func totalSize(_ files: [InputFile]) -> Int {
            files.reduce(0) { sum, file in sum &+ (ReadAheadFile.identify(file.path)?.size ?? 0) }
        }

        /// True for a room message (binary `RKM` or armored), which `decrypt` reads, not `receive`.
        /// True when `result` is checked evidence of a fork, which marked its room, or an admin-signed commit on another
        /// branch (the room may have split): neither is anyone's to plant (the reviews of the kept-bundle rule).
        static func isForkEvidence(_ result: ReceiveResult) -> Bool {
            switch result.error as? LogError {
            case .fork?, .otherBranch?: return true
            default: return false
            }
        }

        static func looksLikeMessage(_ bytes: [UInt8]) -> Bool {
            bytes.starts(with: Array("RKM".utf8)) || bytes.starts(with: Array("roomkey-message-".utf8))
        }

        /// Why a folder's entry that is no regular file is not read.
        static let notRegular = "not a regular file (a FIFO, socket, device or a link to one)"

        /// One file to read, whether it was found in a folder (where stray files are ignored, not refused), and whether
        /// it was a regular file when the folder was listed (a file named on the command line counts as one).
        struct InputFile {
            let path: String
            let inFolder: Bool
            var regular = true
            /// Its name is not valid UTF-8 (the path shows U+FFFD in place of the bad bytes): it cannot be read.
            var notUTF8 = false
        }

        /// Files as given, folders expanded to their entries in name order (hidden files skipped, except the partial
        /// writes `.roomkey-tmp-*`, which are reported; folders and broken links skipped; other entries that are no
        /// regular file kept to be reported as ignored). Nothing is opened here.
        func expand(_ paths: [String]) throws -> [InputFile] {
            try paths.flatMap { path -> [InputFile] in
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw InputError.unreadable(path: path) }
                guard isDirectory.boolValue else { return [InputFile(path: path, inFolder: false)] }
                let listing = try FolderListing.entries(of: path)
                let named = listing.names.sorted()
                    .filter { !$0.hasPrefix(".") || StrayInput.isPartialWrite(fileName: $0) }
                    .map { (path as NSString).appendingPathComponent($0) }
                    .compactMap { entry -> InputFile? in
                        var info = stat()
                        guard stat(entry, &info) == 0, info.st_mode & S_IFMT != S_IFDIR else { return nil }
                        return InputFile(path: entry, inFolder: true, regular: info.st_mode & S_IFMT == S_IFREG)
                    }
                let unnamed = listing.notUTF8.sorted().filter { !$0.hasPrefix(".") }.map {
                    InputFile(path: (path as NSString).appendingPathComponent($0), inFolder: true, notUTF8: true)
                }
                return named + unnamed
            }
        }
    }
}
