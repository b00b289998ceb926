import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey decrypt [FILE...]`.
    struct Decrypt: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "decrypt",
            abstract: "Decrypt room messages (binary or armored) and check who sent them.",
            discussion: """
                Reads the message from FILE or standard input and writes the plaintext to -o FILE or standard output, \
                only after every check passed: the sender is a member at the message's epoch and was not removed \
                since, the signature verifies, the message is not a replay. Binary plaintext is never written to a \
                terminal. Exit 4: no key for this message (never received, or deleted by retention); exit 5: the \
                sender's key has not arrived yet.

                Batch mode (several FILEs, a FILE that is a folder, standing for its files, --suffix, or -o naming a \
                folder): every file is decrypted in one run, up to \
                100 messages per keyring transaction. Each plaintext goes next to its message, or into the -o folder, \
                named after the message without a final .msg (else with .out added), or with --suffix S added; an \
                output that exists is refused unless --force. A bad file is reported and the others go on; the exit \
                code is the worst among the files (2 if any was rejected, else the largest). Each plaintext is \
                written, and the outputs synced, before its message is used up: one that cannot be written fails \
                alone, and its message can be decrypted again.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The message files (default: standard input).", valueName: "file"), completion: .file())
        var files: [String] = []

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the plaintext to this file ('-': standard output), or into this folder (batch mode).", valueName: "out"), completion: .file())
        var output: String?

        @Option(name: .long, help: ArgumentHelp("Batch mode: name each output after its message with this suffix added.", valueName: "suffix"))
        var suffix: String?

        @Flag(name: .long, help: "Replace an existing output file.")
        var force = false

        func execute(_ out: Output) throws {
            let files = ArgumentStash.restore(self.files)
            if BatchFiles.isBatch(files: files, output: output, suffix: suffix) { return try batch(files, out) }
            // `-o -` is the same as no -o: standard output.
            let output = output == OutputFile.standardOutput ? nil : output
            try OutputFile.check(output, force: force)
            let file = files.first ?? "-"
            let input = try InputFiles.read(file, limit: MessageArmor.maxTextLength, what: "message")
            let message = try Self.readMessage(input, file: file)
            let origin = try openKeyring().decrypt(message) { origin, plaintext in
                let data = plaintext.withUnsafeBytes { Data($0) }
                if let output {
                    try OutputFile.write(data, to: output, force: force)
                    if out.json { try StandardOutput.write(Data((Self.document(origin, plaintext: nil, path: output) + "\n").utf8)) }
                } else if out.json {
                    // The document holds the plaintext: written before the message's key is used up, so a write that
                    // fails (a closed pipe) leaves the message to decrypt again (a hostile review lost one that way).
                    try StandardOutput.write(Data((Self.document(origin, plaintext: data.base64EncodedString(), path: nil) + "\n").utf8))
                } else {
                    if isatty(STDOUT_FILENO) == 1, !StandardOutput.isText(data) { throw InputError.outputToTerminal }
                    try StandardOutput.write(data)
                }
            }
            // Quoted (a quote inside doubled): a handle or room name, chosen by others, could otherwise spell a whole
            // attribution of its own, "bob (HIS ID) in room ..." (a review).
            out.note("from \(SafeText.quotedList([origin.senderHandle])) (\(origin.sender.hex)) in room \(SafeText.quotedList([origin.roomName])) (\(origin.roomID.hex)), epoch \(origin.epoch), "
                     + "message \(origin.iteration)" + (output.map { ": wrote \($0)" } ?? ""))
        }

        /// The JSON document of one decrypted message.
        static func document(_ origin: MessageOrigin, plaintext base64: String?, path: String?) -> String {
            Output.encode(DecryptDocument(roomId: origin.roomID.hex, name: origin.roomName, senderId: origin.sender.hex,
                                          senderHandle: origin.senderHandle, epoch: origin.epoch, generation: origin.generation,
                                          iteration: origin.iteration, plaintextBase64: base64, path: path))
        }

        /// Reads a room message; a bundle given by mistake gets a hint to `receive` it.
        static func readMessage(_ input: [UInt8], file: String) throws -> RoomMessage {
            do {
                return try MessageArmor.read(input)
            } catch {
                guard input.starts(with: RoomKeyCore.Bundle.magic.prefix(3)) || LeaveRequest.looksLike(input) else { throw error }
                throw HintedError(underlying: error, hint: "\(file == "-" ? "the input" : file) is a bundle, not a room message: apply it with 'roomkey receive'")
            }
        }

        /// The output name of a message file: without a final `.msg`, else with `.out` added.
        static func outputName(_ base: String) -> String {
            base.hasSuffix(".msg") && base.count > 4 ? String(base.dropLast(4)) : base + ".out"
        }

        /// Batch mode: reads up to 100 files (and 64 MiB) and decrypts them in one transaction, each plaintext written
        /// before its message is used up.
        func batch(_ given: [String], _ out: Output) throws {
            let (files, unnamed, listed) = BatchFiles.expand(given)
            let (outputs, refused) = try BatchFiles.plan(files: files, output: output, suffix: suffix, name: Self.outputName)
            let keyring = try openKeyring()
            var records = files.map { BatchFiles.Record(path: $0) }
            for (i, error) in refused { records[i].fail(error) }
            var next = 0
            while next < files.count {
                var chunk: [(index: Int, message: RoomMessage)] = []
                var bytes = 0
                while next < files.count, chunk.count < Keyring.messagesPerTransaction, bytes < BatchFiles.maxBatchBytes {
                    let i = next
                    next += 1
                    if refused[i] != nil { continue }
                    do {
                        try BatchFiles.checkFree(outputs[i], force: force)
                        if unnamed.contains(files[i]) { throw InputError.nameNotUTF8(path: files[i]) }
                        let input = try InputFiles.read(files[i], limit: MessageArmor.maxTextLength, what: "message", followLinks: !listed.contains(files[i]))
                        let message = try MessageArmor.read(input)
                        chunk.append((i, message))
                        bytes += message.bytes.count
                    } catch {
                        records[i].fail(error)
                    }
                }
                guard !chunk.isEmpty else { continue }
                let results: [Result<DecryptedMessage, any Error>]
                do {
                    // Each plaintext is written before its key is used up, and the outputs are synced before the
                    // transaction commits: a kill leaves each message written and used up, or to be decrypted again.
                    results = try keyring.decryptBatch(chunk.map(\.message), keep: { at, decrypted in
                        let i = chunk[at].index
                        do {
                            try BatchFiles.write(decrypted.plaintext, to: outputs[i], force: force)
                        } catch {
                            throw BatchError.plaintextNotWritten(output: outputs[i], reason: Output.describe(error).1)
                        }
                    }, beforeCommit: { try BatchFiles.syncWritten() })
                } catch {
                    // Nothing was committed: this batch and the files not yet read fail with the same error.
                    for (i, _) in chunk { records[i].fail(error) }
                    for i in next..<files.count where refused[i] == nil { records[i].fail(error) }
                    break
                }
                for ((i, _), result) in zip(chunk, results) {
                    switch result {
                    case let .failure(error):
                        records[i].fail(error)
                    case let .success(decrypted):
                        let origin = decrypted.origin
                        records[i].roomId = origin.roomID.hex
                        records[i].name = origin.roomName
                        records[i].senderId = origin.sender.hex
                        records[i].senderHandle = origin.senderHandle
                        records[i].epoch = origin.epoch
                        records[i].generation = origin.generation
                        records[i].iteration = origin.iteration
                        records[i].output = outputs[i]
                    }
                }
            }
            try BatchFiles.finish(records, out)
        }

        struct DecryptDocument: Encodable {
            let roomId: String, name: String, senderId: String, senderHandle: String, epoch: UInt64, generation: UInt32
            let iteration: UInt32, plaintextBase64: String?, path: String?
        }
    }
}
