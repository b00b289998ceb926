import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey decrypt [FILE]`.
    struct Decrypt: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt a room message (binary or armored) and check who sent it.",
            discussion: """
                Reads the message from FILE or standard input and writes the plaintext to -o FILE or standard output, \
                only after every check passed: the sender is a member at the message's epoch and was not removed \
                since, the signature verifies, the message is not a replay. Binary plaintext is never written to a \
                terminal. Exit 4: no key for this message (never received, or deleted by retention); exit 5: the \
                sender's key has not arrived yet.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The message file (default: standard input).", valueName: "file"))
        var file: String?

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the plaintext to this file ('-': standard output).", valueName: "out"))
        var output: String?

        @Flag(name: .long, help: "Replace an existing file at the -o path.")
        var force = false

        func execute(_ out: Output) throws {
            // `-o -` is the same as no -o: standard output.
            let output = output == OutputFile.standardOutput ? nil : output
            try OutputFile.check(output, force: force)
            let input = Array(try InputFiles.read(file ?? "-", limit: MessageArmor.maxTextLength, what: "message"))
            let message = try MessageArmor.read(input)
            var base64: String? = nil
            let origin = try openKeyring().decrypt(message) { _, plaintext in
                let data = plaintext.withUnsafeBytes { Data($0) }
                if let output {
                    try OutputFile.write(data, to: output, force: force)
                } else if out.json {
                    base64 = data.base64EncodedString()
                } else {
                    if isatty(STDOUT_FILENO) == 1, !StandardOutput.isText(data) { throw InputError.outputToTerminal }
                    try StandardOutput.write(data)
                }
            }
            out.note("from \(origin.senderHandle) (\(origin.sender.hex)) in room \(origin.roomName), epoch \(origin.epoch), "
                     + "message \(origin.iteration)" + (output.map { ": wrote \($0)" } ?? ""))
            if out.json {
                print(Output.encode(DecryptDocument(roomId: origin.roomID.hex, name: origin.roomName, senderId: origin.sender.hex,
                                                    senderHandle: origin.senderHandle, epoch: origin.epoch, generation: origin.generation,
                                                    iteration: origin.iteration, plaintextBase64: base64, path: output)))
            }
        }

        struct DecryptDocument: Encodable {
            let roomId: String, name: String, senderId: String, senderHandle: String, epoch: UInt64, generation: UInt32
            let iteration: UInt32, plaintextBase64: String?, path: String?
        }
    }
}
