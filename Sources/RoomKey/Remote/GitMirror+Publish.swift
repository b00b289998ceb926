import Foundation

/// Writing to the remote: a commit built without a work tree, pushed without force.
extension GitMirror {
    /// Builds a commit on `parent` (nil: the first one) that adds or replaces `add` and deletes `delete`; returns its id.
    /// The new tree is made with `mktree` along the changed folders only: every other entry of the parent's tree is
    /// carried over by id, unread. (`read-tree` of the whole tip refused a tree holding an entry named `.git` or `..`,
    /// which anyone with push access can add, and loaded every path of a tree that names one subtree many times.)
    func commit(parent: String?, add: [(path: String, bytes: [UInt8])], delete: [String]) throws -> String {
        try withScratch { scratch in
            let blobs = add.isEmpty ? [] : try hashObjects(add.map(\.bytes), in: scratch, write: true)
            var changes: [[Substring]: String?] = [:]
            for (item, blob) in zip(add, blobs) { changes[item.path.split(separator: "/")] = .some(blob) }
            for path in delete where changes[path.split(separator: "/")] == nil { changes[path.split(separator: "/")] = .some(nil) }
            let root = try parent.map { Git.text(try git.check(["rev-parse", $0 + "^{tree}"])) }
            let tree = try updatedTree(root, changes) ?? Git.text(try git.check(["mktree", "-z"], input: Data()))
            return Git.text(try git.check(["commit-tree", "--no-gpg-sign", tree] + (parent.map { ["-p", $0] } ?? []) + ["-m", "roomkey sync"]))
        }
    }

    /// The tree `tree` (nil: none) with `changes` (path components relative to it -> blob id, or nil to delete) made;
    /// nil when nothing is left in it. Entries not named by a change keep their exact bytes (name, mode, id).
    private func updatedTree(_ tree: String?, _ changes: [[Substring]: String?]) throws -> String? {
        var entries: [(name: [UInt8], line: [UInt8], isTree: Bool, id: String)] = []
        if let tree {
            for raw in try git.check(["ls-tree", "-z", tree]).split(separator: 0) {
                let bytes = Array(raw)
                guard let tab = bytes.firstIndex(of: 9) else { continue }
                let meta = String(decoding: bytes[..<tab], as: UTF8.self).split(separator: " ")
                guard meta.count == 3 else { continue }
                entries.append((Array(bytes[(tab + 1)...]), bytes, meta[1] == "tree", String(meta[2])))
            }
        }
        var files: [[UInt8]: String?] = [:], folders: [[UInt8]: [[Substring]: String?]] = [:]
        for (parts, blob) in changes where !parts.isEmpty {
            let name = Array(parts[0].utf8)
            if parts.count == 1 { files[name] = blob } else { folders[name, default: [:]][Array(parts.dropFirst())] = blob }
        }
        var out: [[UInt8]] = []
        var done = Set<[UInt8]>()
        for entry in entries {
            if let blob = files[entry.name] {
                if let blob, done.insert(entry.name).inserted { out.append(Array("100644 blob \(blob)\t".utf8) + entry.name) }
                continue
            }
            if let sub = folders[entry.name] {
                guard done.insert(entry.name).inserted else { continue }
                if let id = try updatedTree(entry.isTree ? entry.id : nil, sub) { out.append(Array("040000 tree \(id)\t".utf8) + entry.name) }
                continue
            }
            out.append(entry.line)
        }
        for (name, blob) in files where !done.contains(name) {
            if let blob { out.append(Array("100644 blob \(blob)\t".utf8) + name) }
        }
        for (name, sub) in folders where !done.contains(name) {
            if let id = try updatedTree(nil, sub) { out.append(Array("040000 tree \(id)\t".utf8) + name) }
        }
        if out.isEmpty { return nil }
        var input = Data()
        for line in out { input.append(contentsOf: line); input.append(0) }
        return Git.text(try git.check(["mktree", "-z", "--missing"], input: input))
    }

    /// How a push ended.
    enum PushResult { case pushed, raced }

    /// Pushes `commit` as the remote's `main` without force: `raced` when the remote moved since the fetch.
    func push(_ commit: String) throws -> PushResult {
        let r = try git.run(["push", "-q", "--porcelain", "--no-verify", "--no-signed", "origin", "\(commit):\(Self.branch)"],
                            options: ["remote.origin.promisor=true"])
        if r.status == 0 {
            try git.check(["update-ref", Self.tracking, commit])
            return .pushed
        }
        let out = String(decoding: r.stdout, as: UTF8.self) + r.stderr
        if out.contains("[rejected]") || out.contains("non-fast-forward") || out.contains("fetch first") || out.contains("cannot lock ref")
            || out.contains("failed to update ref") {
            return .raced
        }
        throw RemoteError.git(command: "push", reason: RemoteAddress.scrub(Git.reason(r), url: url))
    }
}
