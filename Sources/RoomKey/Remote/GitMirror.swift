import Foundation

/// A remote's local mirror: a bare repository under the state folder that fetches `main` from the remote's URL (as a
/// partial clone, `--filter=blob:none`, where the server allows it) and pushes commits built without a work tree
/// (blobs, a private index, a tree, a commit), so nothing is checked out.
struct GitMirror {
    /// The branch every roomkey remote uses.
    static let branch = "refs/heads/main"
    /// Where the fetched tip is kept.
    static let tracking = "refs/remotes/origin/main"
    /// Prefix of this mirror's temporary files (removed at every start, so a killed sync leaves none behind).
    static let temporaryPrefix = "roomkey-tmp-"

    let folder: String
    let url: String
    let git: Git

    init(folder: String, url: String) {
        self.folder = folder
        self.url = url
        git = Git(directory: folder)
    }

    /// Makes the mirror if missing (mode 0700), points `origin` at the URL, and removes temporaries a killed sync left.
    func prepare() throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: folder + "/HEAD") {
            do {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw RemoteError.git(command: "init", reason: "cannot create \(folder): \(error.localizedDescription)")
            }
            try git.check(["init", "--bare", "-q", "."])
        }
        try git.check(["config", "remote.origin.url", url])
        // A glob refspec: fetching an empty repository (no `main` yet) is not an error.
        try git.check(["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"])
        // A partial clone where the server allows it: commits and trees are fetched, blobs only when read.
        try git.check(["config", "remote.origin.promisor", "true"])
        try git.check(["config", "remote.origin.partialclonefilter", "blob:none"])
        for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(Self.temporaryPrefix) {
            try? fm.removeItem(atPath: folder + "/" + name)
        }
    }

    /// Fetches the remote's `main`; returns its tip, or nil when the remote has no such branch yet.
    func fetch() throws -> String? {
        let r = try git.run(["fetch", "-q", "--no-tags", "--prune", "--filter=blob:none", "origin"])
        guard r.status == 0 else { throw RemoteError.git(command: "fetch", reason: Git.reason(r)) }
        let tip = try git.run(["rev-parse", "-q", "--verify", Self.tracking + "^{commit}"])
        return tip.status == 0 ? Git.text(tip.stdout) : nil
    }

    /// True when commit `a` is `b` or one of its ancestors (false when either is unknown here).
    func isAncestor(_ a: String, of b: String) -> Bool {
        (try? git.run(["merge-base", "--is-ancestor", a, b]).status) == 0
    }

    /// True when this mirror holds the commit.
    func hasCommit(_ id: String) -> Bool {
        (try? git.run(["cat-file", "-e", id + "^{commit}"]).status) == 0
    }

    /// Files added or changed from commit `old` to commit `new`, with their blob ids: what arrived since a sync.
    /// The tree entry modes of regular files.
    static let regularModes: Set<String> = ["100644", "100755"]

    func changedFiles(from old: String, to new: String) throws -> [(path: String, blob: String)] {
        let out = try git.check(["diff-tree", "-r", "-z", "--no-renames", "--diff-filter=AM", old, new])
        let fields = out.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var files: [(String, String)] = []
        var i = 0
        while i + 1 < fields.count {
            let meta = fields[i].split(separator: " ")
            // Regular files only: a gitlink (160000), symlink (120000) or tree is never a bundle, and reading a gitlink
            // would stop every member's sync at `cat-file`.
            if meta.count >= 4, fields[i].hasPrefix(":"), Self.regularModes.contains(String(meta[1])) {
                files.append((fields[i + 1], String(meta[3])))
            }
            i += 2
        }
        return files
    }

    /// The files of commit `id` (all of them, or those under `paths`), path -> blob id.
    func files(at id: String, under paths: [String]? = nil) throws -> [String: String] {
        var result: [String: String] = [:]
        let groups: [[String]] = paths.map { p in stride(from: 0, to: p.count, by: 500).map { Array(p[$0..<min($0 + 500, p.count)]) } } ?? [[]]
        for group in groups where paths == nil || !group.isEmpty {
            let out = try git.check(["ls-tree", "-r", "-z", id] + (paths == nil ? [] : ["--"] + group))
            for entry in out.split(separator: 0) {
                let text = String(decoding: entry, as: UTF8.self)
                guard let tab = text.firstIndex(of: "\t") else { continue }
                let meta = text[..<tab].split(separator: " ")
                if meta.count == 3, meta[1] == "blob" { result[String(text[text.index(after: tab)...])] = String(meta[2]) }
            }
        }
        return result
    }

    /// The contents of blobs, by id, read with one `git cat-file --batch` (a missing one is fetched on demand); a blob larger than `limit` reads as empty, and
    /// one that cannot be had is missing from the result.
    func blobs(_ ids: [String], limit: Int, prefetch: Bool = false) throws -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        // With `prefetch`, one fetch for every blob wanted (a partial clone would otherwise fetch them one at a time); a
        // server that sent every blob already, or refuses the request, leaves the reading below to find them.
        for start in stride(from: 0, to: prefetch ? ids.count : 0, by: 1000) {
            _ = try git.run(["fetch", "-q", "--no-tags", "--no-write-fetch-head", "--filter=blob:none", "origin"]
                            + ids[start..<min(start + 1000, ids.count)])
        }
        let out = [UInt8](try git.check(["cat-file", "--batch"], input: Data(ids.map { $0 + "\n" }.joined().utf8)))
        var result: [String: [UInt8]] = [:]
        var i = 0
        while i < out.count {
            guard let nl = out[i...].firstIndex(of: 10) else { break }
            let header = String(decoding: out[i..<nl], as: UTF8.self).split(separator: " ")
            i = nl + 1
            guard header.count == 3, let size = Int(header[2]), size >= 0, i + size <= out.count else { continue }
            // An oversized file reads as empty: receive then reports it as malformed instead of stopping every sync.
            if header[1] == "blob" { result[String(header[0])] = size <= limit ? Array(out[i..<(i + size)]) : [] }
            i += size + 1
        }
        return result
    }

    /// The blob ids `bytes` would have in this mirror (nothing is written): one `git hash-object` for all of them.
    func blobIDs(of contents: [[UInt8]]) throws -> [String] {
        guard !contents.isEmpty else { return [] }
        let fm = FileManager.default
        let scratch = folder + "/" + Self.temporaryPrefix + UUID().uuidString
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(atPath: scratch) }
        var files: [String] = []
        for (n, bytes) in contents.enumerated() {
            let file = "\(scratch)/\(n)"
            guard fm.createFile(atPath: file, contents: Data(bytes)) else { throw RemoteError.git(command: "hash-object", reason: "cannot write \(file)") }
            files.append(file)
        }
        let ids = Git.text(try git.check(["hash-object", "--stdin-paths"], input: Data(files.map { $0 + "\n" }.joined().utf8)))
            .split(separator: "\n").map(String.init)
        guard ids.count == contents.count else { throw RemoteError.git(command: "hash-object", reason: "hashed \(ids.count) of \(contents.count) files") }
        return ids
    }

    /// The tree ids of the folders `paths` in commit `id`, path -> tree id (a missing folder is absent).
    func treeIDs(at id: String, _ paths: [String]) throws -> [String: String] {
        guard !paths.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for start in stride(from: 0, to: paths.count, by: 500) {
            let out = try git.check(["ls-tree", "-z", id, "--"] + paths[start..<min(start + 500, paths.count)])
            for entry in out.split(separator: 0) {
                let text = String(decoding: entry, as: UTF8.self)
                guard let tab = text.firstIndex(of: "\t") else { continue }
                let meta = text[..<tab].split(separator: " ")
                if meta.count == 3, meta[1] == "tree" { result[String(text[text.index(after: tab)...])] = String(meta[2]) }
            }
        }
        return result
    }

    /// Builds a commit on `parent` (nil: the first one) that adds or replaces `add` and deletes `delete`; returns its id.
    func commit(parent: String?, add: [(path: String, bytes: [UInt8])], delete: [String]) throws -> String {
        let fm = FileManager.default
        let scratch = folder + "/" + Self.temporaryPrefix + UUID().uuidString
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(atPath: scratch) }
        var files: [String] = []
        for (n, item) in add.enumerated() {
            let file = "\(scratch)/\(n)"
            guard fm.createFile(atPath: file, contents: Data(item.bytes)) else {
                throw RemoteError.git(command: "hash-object", reason: "cannot write \(file)")
            }
            files.append(file)
        }
        let blobs = add.isEmpty ? [] : Git.text(try git.check(["hash-object", "-w", "--stdin-paths"], input: Data(files.map { $0 + "\n" }.joined().utf8)))
            .split(separator: "\n").map(String.init)
        guard blobs.count == add.count else { throw RemoteError.git(command: "hash-object", reason: "wrote \(blobs.count) of \(add.count) blobs") }
        let index = ["GIT_INDEX_FILE": scratch + "/index"]
        try git.check(parent.map { ["read-tree", $0] } ?? ["read-tree", "--empty"], env: index)
        var info = Data()
        for (item, blob) in zip(add, blobs) { info.append(Data("100644 \(blob)\t\(item.path)\0".utf8)) }
        for path in delete { info.append(Data("0 0000000000000000000000000000000000000000\t\(path)\0".utf8)) }
        try git.check(["update-index", "-z", "--index-info"], input: info, env: index)
        let tree = Git.text(try git.check(["write-tree"], env: index))
        return Git.text(try git.check(["commit-tree", tree] + (parent.map { ["-p", $0] } ?? []) + ["-m", "roomkey sync"]))
    }

    /// How a push ended.
    enum PushResult { case pushed, raced }

    /// Pushes `commit` as the remote's `main` without force: `raced` when the remote moved since the fetch.
    func push(_ commit: String) throws -> PushResult {
        let r = try git.run(["push", "-q", "--porcelain", "origin", "\(commit):\(Self.branch)"])
        if r.status == 0 {
            try git.check(["update-ref", Self.tracking, commit])
            return .pushed
        }
        let out = String(decoding: r.stdout, as: UTF8.self) + r.stderr
        if out.contains("[rejected]") || out.contains("non-fast-forward") || out.contains("fetch first") || out.contains("cannot lock ref")
            || out.contains("failed to update ref") {
            return .raced
        }
        throw RemoteError.git(command: "push", reason: Git.reason(r))
    }
}
