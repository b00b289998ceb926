import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey encrypt ROOM [FILE]`.
    struct Encrypt: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encrypt a message for a room with your sender key.",
            discussion: """
                Reads the plaintext from FILE or standard input (at most 64 MiB) and writes the message to -o FILE or \
                standard output: binary, or text with --armor. Binary is never written to a terminal. Send the same \
                message to every member; they read it with 'roomkey decrypt'. When your sender key has encrypted as many \
                messages as the room allows, or is older than the room allows ('room set'), a new generation is made \
                first and its bundle written to the outbox: send it along.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room"))
        var room: String

        @Argument(help: ArgumentHelp("The plaintext file (default: standard input).", valueName: "file"))
        var file: String?

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the message to this file ('-': standard output).", valueName: "out"))
        var output: String?

        @Flag(name: .long, help: "Replace an existing file at the -o path.")
        var force = false

        @Flag(name: .long, help: "Write the message as text (roomkey-message-v1: and base64url lines).")
        var armor = false

        @OptionGroup var outbox: OutboxOption

        func execute(_ out: Output) throws {
            // `-o -` is the same as no -o: standard output.
            let output = output == OutputFile.standardOutput ? nil : output
            try OutputFile.check(output, force: force)
            let armored = armor || (out.json && output == nil)
            if output == nil, !armored, isatty(STDOUT_FILENO) == 1 { throw InputError.outputToTerminal }
            let plaintext = Array(try InputFiles.read(file ?? "-", limit: RoomMessage.maxPlaintext, what: "message plaintext"))
            let box = outbox.box
            var written: String? = nil
            var committed = false
            let result: EncryptedMessage
            do {
                result = try openKeyring(outbox: box).encrypt(room: room, plaintext: plaintext, deliverBundle: { bundle in
                    written = try box.name(bundle)
                    return written ?? ""
                }) { message in
                    committed = true
                    let data = armored ? Data(MessageArmor.encode(message.bytes).utf8) : Data(message.bytes)
                    if let output {
                        try OutputFile.write(data, to: output, force: force)
                    } else if !out.json {
                        try StandardOutput.write(data)
                    }
                }
            } catch {
                // Before the commit the keyring kept nothing, so a rotation bundle written on the way must not reach
                // anyone; after it, the rotation stands and its bundle must be sent.
                if !committed, let written { try? FileManager.default.removeItem(atPath: written) }
                throw error
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
        do {
            try FileHandle.standardOutput.write(contentsOf: data)
        } catch {
            throw OutputError.cannotWrite(path: "standard output", reason: error.localizedDescription)
        }
    }

    /// True when `data` is UTF-8 text without control characters other than tab, CR and LF, so a terminal may show it.
    static func isText(_ data: Data) -> Bool {
        guard let text = String(data: data, encoding: .utf8) else { return false }
        return !text.unicodeScalars.contains { $0.properties.generalCategory == .control && !["\n", "\r", "\t"].contains($0) }
    }
}
