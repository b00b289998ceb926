import Foundation

/// Blob and tree ids, for comparing what the remote holds with what this keyring made without reading it.
extension GitMirror {
    /// The blob ids `contents` would have in this mirror (nothing is written): one `git hash-object` for all of them.
    func blobIDs(of contents: [[UInt8]]) throws -> [String] {
        guard !contents.isEmpty else { return [] }
        return try withScratch { try hashObjects(contents, in: $0, write: false) }
    }

    /// Runs `body` with a new private folder inside the mirror, removed afterwards.
    func withScratch<T>(_ body: (String) throws -> T) throws -> T {
        let fm = FileManager.default
        let scratch = folder + "/" + Self.temporaryPrefix + UUID().uuidString
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(atPath: scratch) }
        return try body(scratch)
    }

    /// The blob ids of `contents`, hashed by one `git hash-object --stdin-paths` from files written in `scratch`;
    /// `write` also stores them in the mirror.
    func hashObjects(_ contents: [[UInt8]], in scratch: String, write: Bool) throws -> [String] {
        var files: [String] = []
        for (n, bytes) in contents.enumerated() {
            let file = "\(scratch)/\(n)"
            guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
                throw RemoteError.git(command: "hash-object", reason: "cannot write \(file)")
            }
            files.append(file)
        }
        let ids = Git.text(try git.check(["hash-object"] + (write ? ["-w"] : []) + ["--stdin-paths"],
                                         input: Data(files.map { $0 + "\n" }.joined().utf8)))
            .split(separator: "\n").map(String.init)
        guard ids.count == contents.count else {
            throw RemoteError.git(command: "hash-object", reason: "hashed \(ids.count) of \(contents.count) files")
        }
        return ids
    }

    /// The tree ids of the folders `paths` in commit `id`, path -> tree id (a missing folder is absent).
    func treeIDs(at id: String, _ paths: [String]) throws -> [String: String] {
        guard !paths.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for start in stride(from: 0, to: paths.count, by: 500) {
            let out = try git.check(["ls-tree", "-z", id, "--"] + paths[start..<min(start + 500, paths.count)])
            for entry in TreeEntry.entries(of: out) where entry.type == "tree" { result[entry.path] = entry.id }
        }
        return result
    }

    /// One entry of a tree as `ls-tree -z` lists it: mode (six octal digits), type, object id (hex) and name or path
    /// (any bytes).
    struct TreeEntry {
        let mode: String
        let type: String
        let name: Data
        let id: String
        /// True for a folder.
        var isTree: Bool { mode == Self.treeMode }
        /// The name as text (bytes that are not UTF-8 replaced), as paths are compared.
        var path: String { String(decoding: name, as: UTF8.self) }
        static let treeMode = "040000"

        /// The entries of `ls-tree -z` output; a line without a tab or three fields before it is skipped.
        static func entries(of listing: Data) -> [TreeEntry] {
            listing.split(separator: 0).compactMap { line in
                guard let tab = line.firstIndex(of: 9) else { return nil }
                let meta = String(decoding: line[..<tab], as: UTF8.self).split(separator: " ")
                guard meta.count == 3 else { return nil }
                return TreeEntry(mode: String(meta[0]), type: String(meta[1]), name: line[(tab + 1)...], id: String(meta[2]))
            }
        }
    }
}
