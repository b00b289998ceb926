import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey receive PATH...`.
    struct Receive: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply bundles: commits in epoch order, members' sender keys, and your own rotation in response.",
            discussion: """
                PATH may be a folder: every regular file in it is read. Each input gets a status: applied, duplicate, \
                pending (kept until its earlier epoch arrives), not-for-me, rejected or malformed. Every good input is \
                applied even when another is bad; the exit code is the worst among them (rejected 2, malformed 65, \
                pending 5). When a commit is applied, your new sender key is written as a bundle to the outbox. \
                With -q, the text output leaves out not-for-me and duplicate inputs.
                """)

        static let maxBundleBytes = 256 * 1024 * 1024

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Bundle files or folders of bundles.", valueName: "path"))
        var paths: [String]

        @OptionGroup var outbox: OutboxOption

        func execute(_ output: Output) throws {
            var inputs: [ReceiveInput] = []
            for path in try expand(paths) {
                inputs.append(ReceiveInput(path: path, bytes: Array(try InputFiles.read(path, limit: Self.maxBundleBytes, what: "bundle"))))
            }
            let box = outbox.box
            let results = try openKeyring(outbox: box).receive(inputs) { try box.name($0) }
            let docs = results.map(ResultDocument.init)
            output.result(["results": docs]) {
                docs.filter { !output.quiet || !["not-for-me", "duplicate"].contains($0.status) }.flatMap(\.lines)
            }
            for r in results where r.status == .rejected || r.status == .malformed {
                Output.stderr("roomkey: error: \(r.path): \(r.error?.message ?? r.status.rawValue)")
                if let input = inputs.first(where: { $0.path == r.path }), Self.looksLikeMessage(input.bytes) {
                    Output.stderr("roomkey: hint: \(r.path) is a room message, not a bundle: read it with 'roomkey decrypt'")
                }
            }
            for r in results where r.status == .applied {
                if let error = r.error { output.warn("your new sender key was not sent: \(error.message)", hint: error.hint) }
            }
            for r in results { if let warning = r.warning { output.warn(warning, hint: nil) } }
            let worst = results.map(\.status).max() ?? .applied
            switch worst {
            case .rejected: throw ExitCode(ExitStatus.rejected)
            case .malformed: throw ExitCode(ExitStatus.malformed)
            case .pending: throw ExitCode(ExitStatus.pending)
            default: break
            }
        }

        /// True for a room message (binary `RKM` or armored), which `decrypt` reads, not `receive`.
        static func looksLikeMessage(_ bytes: [UInt8]) -> Bool {
            bytes.starts(with: Array("RKM".utf8)) || bytes.starts(with: Array("roomkey-message-".utf8))
        }

        /// Files as given, folders expanded to their regular files in name order (hidden files skipped).
        func expand(_ paths: [String]) throws -> [String] {
            try paths.flatMap { path -> [String] in
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw InputError.unreadable(path: path) }
                guard isDirectory.boolValue else { return [path] }
                return try FileManager.default.contentsOfDirectory(atPath: path).sorted().filter { !$0.hasPrefix(".") }
                    .map { (path as NSString).appendingPathComponent($0) }
                    .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
            }
        }

        struct ResultDocument: Encodable {
            let path: String, status: String, roomId: String?, epoch: UInt64?, error: String?, bundles: [String]
            init(_ r: ReceiveResult) {
                path = r.path
                status = r.status.rawValue
                roomId = r.roomID?.hex
                epoch = r.epoch
                error = r.error.map { Output.oneLine($0.message) }
                bundles = r.bundles
            }

            /// The text lines: the status line, then one for each bundle written.
            var lines: [String] {
                let room = roomId.map { "  room \($0) epoch \(epoch ?? 0)" } ?? ""
                let detail = error.map { ": \($0)" } ?? ""
                return ["\(status)  \(path)\(room)\(detail)"] + bundles.map { "  wrote \($0)" }
            }
        }
    }
}
