import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey encrypt ROOM [FILE...]`.
    struct Encrypt: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "encrypt",
            abstract: "Encrypt a message for a room with your sender key.",
            discussion: """
                Reads the plaintext from FILE or standard input (at most 64 MiB) and writes the message to -o FILE or \
                standard output: binary, or text with --armor. Binary is never written to a terminal. Send the same \
                message to every member; they read it with 'roomkey decrypt'. When your sender key has encrypted as many \
                messages as the room allows, or is older than the room allows ('room set'), a new generation is made \
                first and its bundle written to the outbox: send it along.

                Batch mode (several FILEs, a FILE that is a folder, standing for its files, --suffix, or -o naming a \
                folder): every file is encrypted in one run, with \
                consecutive iterations, up to 100 messages per keyring transaction. Each message goes next to its \
                plaintext, or into the -o folder, named after it with .msg added (or --suffix S); an output that \
                exists is refused unless --force. A file that cannot be read is reported and the others go on; the \
                exit code is the worst among the files.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room"))
        var room: String

        @Argument(help: ArgumentHelp("The plaintext files (default: standard input).", valueName: "file"), completion: .file())
        var files: [String] = []

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the message to this file ('-': standard output), or into this folder (batch mode).", valueName: "out"), completion: .file())
        var output: String?

        @Option(name: .long, help: ArgumentHelp("Batch mode: name each message after its plaintext with this suffix added (default .msg).",
                                                valueName: "suffix"))
        var suffix: String?

        @Flag(name: .long, help: "Replace an existing output file.")
        var force = false

        @Flag(name: .long, help: "Write the message as text (roomkey-message-v1: and base64url lines).")
        var armor = false

        @OptionGroup var outbox: OutboxOption

        func execute(_ out: Output) throws {
            let files = ArgumentStash.restore(self.files)
            if BatchFiles.isBatch(files: files, output: output, suffix: suffix) { return try batch(files, out) }
            // `-o -` is the same as no -o: standard output.
            let output = output == OutputFile.standardOutput ? nil : output
            try OutputFile.check(output, force: force)
            let armored = armor || (out.json && output == nil)
            if output == nil, !armored, isatty(STDOUT_FILENO) == 1 { throw InputError.outputToTerminal }
            let plaintext = try InputFiles.read(files.first ?? "-", limit: RoomMessage.maxPlaintext, what: "message plaintext")
            let box = outbox.box
            // A rotation made first is recorded in the outbox and written only once its transaction committed.
            let result = try openKeyring(outbox: box).encrypt(room: room, plaintext: plaintext, deliverBundle: box.name) { message in
                let data = armored ? Data(MessageArmor.encode(message.bytes).utf8) : Data(message.bytes)
                if let output {
                    try OutputFile.write(data, to: output, force: force)
                } else if !out.json {
                    try StandardOutput.write(data)
                }
            }
            if let bundle = result.rotationBundle {
                out.note("made a new sender key for room \(result.roomName) first (\(result.rotationReason ?? "rotation policy")); "
                         + "wrote its bundle to \(bundle): send it to the members with the message")
            }
            if let output { out.note("encrypted \(plaintext.count) bytes for room \(result.roomName): wrote \(output)") }
            if out.json {
                let doc = EncryptDocument(roomId: result.roomID.hex, name: result.roomName, epoch: result.epoch, generation: result.generation,
                                          iteration: result.iteration, path: output,
                                          message: output == nil ? MessageArmor.encode(result.bytes) : nil, bundle: result.rotationBundle)
                print(Output.encode(doc))
            }
        }

        /// Batch mode: reads up to 100 files (and 64 MiB), encrypts them in one transaction, then writes the messages.
        func batch(_ given: [String], _ out: Output) throws {
            let (files, unnamed, listed) = BatchFiles.expand(given)
            let (outputs, refused) = try BatchFiles.plan(files: files, output: output, suffix: suffix) { $0 + ".msg" }
            let box = outbox.box
            let keyring = try openKeyring(outbox: box)
            var records = files.map { BatchFiles.Record(path: $0) }
            for (i, error) in refused { records[i].fail(error) }
            var next = 0
            while next < files.count {
                var chunk: [(index: Int, plaintext: [UInt8])] = []
                var bytes = 0
                while next < files.count, chunk.count < Keyring.messagesPerTransaction, bytes < BatchFiles.maxBatchBytes {
                    let i = next
                    next += 1
                    if refused[i] != nil { continue }
                    do {
                        try BatchFiles.checkFree(outputs[i], force: force)
                        if unnamed.contains(files[i]) { throw InputError.nameNotUTF8(path: files[i]) }
                        let plaintext = try InputFiles.read(files[i], limit: RoomMessage.maxPlaintext, what: "message plaintext", followLinks: !listed.contains(files[i]))
                        chunk.append((i, plaintext))
                        bytes += plaintext.count
                    } catch {
                        records[i].fail(error)
                    }
                }
                guard !chunk.isEmpty else { continue }
                let messages: [EncryptedMessage]
                do {
                    messages = try keyring.encryptBatch(room: room, plaintexts: chunk.map(\.plaintext), deliverBundle: box.name)
                } catch {
                    // Nothing was committed (rotation bundles stay unwritten in a rolled-back outbox); this batch and the
                    // files not yet read fail with the same error.
                    for (i, _) in chunk { records[i].fail(error) }
                    for i in next..<files.count where refused[i] == nil { records[i].fail(error) }
                    break
                }
                for ((i, _), message) in zip(chunk, messages) {
                    records[i].roomId = message.roomID.hex
                    records[i].name = message.roomName
                    records[i].epoch = message.epoch
                    records[i].generation = message.generation
                    records[i].iteration = message.iteration
                    records[i].bundle = message.rotationBundle
                    if let bundle = message.rotationBundle {
                        out.note("made a new sender key for room \(message.roomName) first (\(message.rotationReason ?? "rotation policy")); "
                                 + "wrote its bundle to \(bundle): send it to the members with the messages")
                    }
                    let data = armor ? Data(MessageArmor.encode(message.bytes).utf8) : Data(message.bytes)
                    do {
                        try BatchFiles.write(data, to: outputs[i], force: force)
                        records[i].output = outputs[i]
                    } catch {
                        records[i].fail(BatchError.messageNotWritten(output: outputs[i], iteration: message.iteration,
                                                                     reason: Output.describe(error).1))
                    }
                }
            }
            try BatchFiles.finish(records, out)
        }

        struct EncryptDocument: Encodable {
            let roomId: String, name: String, epoch: UInt64, generation: UInt32, iteration: UInt32
            let path: String?, message: String?, bundle: String?
        }
    }
}

/// Writing results to standard output as raw bytes.
enum StandardOutput {
    /// Writes `data` to standard output.
    static func write(_ data: Data) throws {
        // write(2) directly: a failure names the system's reason ("Broken pipe"), where Foundation's write said
        // "The operation could not be completed. (NSCocoaErrorDomain error 512.)" (a hostile review).
        do {
            try OutputPath.writeAll(STDOUT_FILENO, data, path: "standard output")
        } catch OutputFileError.system(_, let code) {
            throw OutputError.cannotWrite(path: "standard output", reason: String(cString: strerror(code)))
        }
    }

    /// True when `data` is UTF-8 text a terminal may show as it is (`SafeText.isTerminalSafe`).
    static func isText(_ data: Data) -> Bool {
        guard let text = String(data: data, encoding: .utf8) else { return false }
        return SafeText.isTerminalSafe(text)
    }
}
