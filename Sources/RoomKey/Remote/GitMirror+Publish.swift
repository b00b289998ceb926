import Foundation
import RoomKeyCore

/// Writing to the remote: a commit built without a work tree, pushed without force.
extension GitMirror {
    /// Builds a commit on `parent` (nil: the first one) that adds or replaces `add` and deletes `delete`; returns its id.
    /// Only the folders on the changed paths get new trees; every other entry of the parent's tree is carried over by
    /// id, unread and unchecked. (`read-tree` of the whole tip refused a tree holding an entry named `.git` or `..`,
    /// which anyone with push access can add, and loaded every path of a tree that names one subtree many times; `mktree`
    /// refused a name holding a slash. Either stopped every admin's publishing.)
    func commit(parent: String?, add: [(path: String, bytes: [UInt8])], delete: [String]) throws -> String {
        try withScratch { scratch in
            let blobs = add.isEmpty ? [] : try hashObjects(add.map(\.bytes), in: scratch, write: true)
            var changes: [[Substring]: String?] = [:]
            for (item, blob) in zip(add, blobs) { changes[item.path.split(separator: "/")] = .some(blob) }
            for path in delete where changes[path.split(separator: "/")] == nil { changes[path.split(separator: "/")] = .some(nil) }
            let root = try parent.map { Git.text(try git.check(["rev-parse", $0 + "^{tree}"])) }
            let tree = try updatedTree(root, changes) ?? writeTree([])
            return Git.text(try git.check(["commit-tree", "--no-gpg-sign", tree] + (parent.map { ["-p", $0] } ?? []) + ["-m", "roomkey sync"]))
        }
    }

    /// The tree `tree` (nil: none) with `changes` (path components relative to it -> blob id, or nil to delete) made;
    /// nil when nothing is left in it. Entries not named by a change are kept as they are, whatever their names; of
    /// several entries of one changed name (a hostile tree can hold them), one is written, on a folder's tree if any.
    private func updatedTree(_ tree: String?, _ changes: [[Substring]: String?]) throws -> String? {
        let entries = try tree.map { TreeEntry.entries(of: try git.check(["ls-tree", "-z", $0])) } ?? []
        var files: [Data: String?] = [:], folders: [Data: [[Substring]: String?]] = [:]
        for (parts, blob) in changes where !parts.isEmpty {
            let name = Data(parts[0].utf8)
            if parts.count == 1 { files[name] = blob } else { folders[name, default: [:]][Array(parts.dropFirst())] = blob }
        }
        var base: [Data: String] = [:]
        for entry in entries where entry.isTree && folders[entry.name] != nil && base[entry.name] == nil { base[entry.name] = entry.id }
        var out = entries.filter { files[$0.name] == nil && folders[$0.name] == nil }
        for (name, blob) in files { if let blob { out.append(TreeEntry(mode: "100644", type: "blob", name: name, id: blob)) } }
        for (name, sub) in folders {
            if let id = try updatedTree(base[name], sub) { out.append(TreeEntry(mode: TreeEntry.treeMode, type: "tree", name: name, id: id)) }
        }
        return out.isEmpty ? nil : try writeTree(out)
    }

    /// Writes a tree object of `entries` as git lays one out (`mode name NUL raw-id`, sorted as git sorts: a folder's
    /// name as if it ended in `/`), without git checking the names it carries over; returns its id.
    private func writeTree(_ entries: [TreeEntry]) throws -> String {
        func key(_ e: TreeEntry) -> [UInt8] { Array(e.name) + (e.isTree ? [UInt8(ascii: "/")] : []) }
        var object = Data()
        for entry in entries.sorted(by: { key($0).lexicographicallyPrecedes(key($1)) }) {
            guard let raw = try? Hex.decode(entry.id, what: "object id") else {
                throw RemoteError.git(command: "ls-tree", reason: "an object id that is not hex")
            }
            object.append(contentsOf: Array(entry.mode.drop { $0 == "0" }.utf8) + [UInt8(ascii: " ")] + Array(entry.name) + [0] + raw)
        }
        return Git.text(try git.check(["hash-object", "-t", "tree", "-w", "--literally", "--stdin"], input: object))
    }

    /// `path` as one entry of `GIT_ALTERNATE_OBJECT_DIRECTORIES`, whose entries are separated by colons: a path with a
    /// colon (or starting with a double quote) is written C-quoted, as git reads it.
    static func alternateEntry(_ path: String) -> String {
        guard path.contains(":") || path.hasPrefix("\"") else { return path }
        var quoted = "\""
        for c in path {
            if c == "\"" || c == "\\" { quoted.append("\\") }
            quoted.append(c)
        }
        return quoted + "\""
    }

    /// How a push ended.
    enum PushResult { case pushed, raced }

    /// Pushes `commit` as the remote's `main` without force: `raced` when the remote moved since the fetch.
    ///
    /// The push runs with the mirror's objects as an alternate and a scratch folder as its object store: a push that
    /// loses a race fetches the remote's new tip lazily (the mirror is partial, so its remote is a promisor) with every
    /// file filtered out, and that tip, kept, made the next fetch believe it had everything: the files of the winner's
    /// commits were never read, and the loser's sync failed at every run after (a review: 3 of 14 races). Whatever the
    /// push fetches goes with the scratch folder; the next fetch brings the tip whole.
    func push(_ commit: String) throws -> PushResult {
        let r = try withScratch { scratch in
            let objects = scratch + "/objects"
            for part in ["pack", "info"] {
                try FileManager.default.createDirectory(atPath: objects + "/" + part, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            return try git.run(["push", "-q", "--porcelain", "--no-verify", "--no-signed", "origin", "\(commit):\(Self.branch)"],
                               env: ["GIT_OBJECT_DIRECTORY": objects, "GIT_ALTERNATE_OBJECT_DIRECTORIES": Self.alternateEntry(folder + "/objects")],
                               options: ["remote.origin.promisor=true"])
        }
        if r.status == 0 {
            try git.check(["update-ref", Self.tracking, commit])
            return .pushed
        }
        let out = String(decoding: r.stdout, as: UTF8.self) + r.stderr
        if out.contains("[rejected]") || out.contains("non-fast-forward") || out.contains("fetch first") || out.contains("cannot lock ref")
            || out.contains("failed to update ref") {
            return .raced
        }
        // A server that refuses the push (a hook) says why on the porcelain line, "[remote rejected] (why)".
        if let refused = String(decoding: r.stdout, as: UTF8.self).split(whereSeparator: \.isNewline).first(where: { $0.contains("[remote rejected]") }),
           let open = refused.range(of: "[remote rejected]") {
            let why = refused[open.upperBound...].trimmingCharacters(in: .whitespaces)
            throw RemoteError.git(command: "push", reason: "the remote refused it" + (why.isEmpty ? "" : " " + RemoteAddress.scrub(why, url: url)))
        }
        throw RemoteError.git(command: "push", reason: RemoteAddress.scrub(Git.reason(r), url: url))
    }
}
