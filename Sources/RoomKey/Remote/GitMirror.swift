import Foundation
import RoomKeyCore

/// A remote's local mirror: a bare repository under the state folder that fetches only `main` from the remote's URL
/// (as a partial clone without blobs over the file limit, where the server allows it) and pushes commits built without
/// a work tree (blobs, a private index, a tree, a commit), so nothing is checked out. Git always runs on it with
/// `--git-dir`, so a broken mirror never sends git looking for an enclosing repository.
struct GitMirror {
    /// The branch every roomkey remote uses.
    static let branch = "refs/heads/main"
    /// Where the fetched tip is kept.
    static let tracking = "refs/remotes/origin/main"
    /// The only refspec fetched: other branches of the remote are never downloaded.
    static let refspec = "+\(branch):\(tracking)"
    /// Prefix of this mirror's temporary files (removed at every start, so a killed sync leaves none behind).
    static let temporaryPrefix = "roomkey-tmp-"

    let folder: String
    let url: String
    let git: Git
    /// The most bytes one recursive listing of the remote's tree may produce (`maxListingBytes`; smaller in tests, and
    /// in debug builds from `ROOMKEY_TEST_LISTING_LIMIT`, so that end-to-end tests reach it without 512 MiB of trees).
    var listingLimit: Int = {
        #if DEBUG
        if let text = ProcessInfo.processInfo.environment["ROOMKEY_TEST_LISTING_LIMIT"], let limit = Int(text) { return limit }
        #endif
        return GitMirror.maxListingBytes
    }()
    /// The most files one listing of every room folder names (`RoomTreeWalk`; smaller in tests).
    var walkFileLimit = GitMirror.maxListedFiles

    init(folder: String, url: String, timeout: Double = Git.defaultTimeout) {
        self.folder = folder
        self.url = url
        var git = Git(directory: folder)
        git.timeout = timeout
        self.git = git
    }

    /// The mirror of remote `name` with `url` for the identity `identity` (hex): `stateFolder/remotes/NAME-HASH`, HASH
    /// the first 4 bytes (hex) of BLAKE2b-256 of the identity id, a zero byte and the URL, so two keyrings of different
    /// people, or a remote whose URL changed, never share a mirror, and a keyring moved or copied keeps its own.
    static func folder(stateFolder: String, remote name: String, identity: String, url: String) -> String {
        let hash = Hex.encode(Array(BLAKE2b.hash([Array(identity.utf8), [0], Array(url.utf8)]).prefix(4)))
        return "\(stateFolder)/remotes/\(name)-\(hash)"
    }

    /// The lock file of the mirror at `folder`: `remotes/locks/NAME-HASH.lock`, apart from every mirror folder.
    static func lock(of folder: String) -> String {
        let remotes = PathName.parent(folder)
        return "\(remotes)/locks/\((folder as NSString).lastPathComponent).lock"
    }

    /// Makes the mirror if it is missing or broken (initialised beside it and renamed into place, mode 0700), removes
    /// lock files a killed git left (older than `started`; call it with the sync lock held) and temporaries, and sets
    /// `origin` (writing the config only when a value differs).
    func prepare(started: Date) throws {
        let fm = FileManager.default
        let parent = PathName.parent(folder), base = (folder as NSString).lastPathComponent
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RemoteError.git(command: "init", reason: "cannot create \(parent): \(error.localizedDescription)")
        }
        for name in (try? fm.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(Self.temporaryPrefix + base + "-") {
            try? fm.removeItem(atPath: parent + "/" + name)
        }
        if !isBare() {
            // Half made by a killed sync, or not a repository: the mirror is a cache, made again.
            if fm.fileExists(atPath: folder) { try fm.removeItem(atPath: folder) }
            let scratch = parent + "/" + Self.temporaryPrefix + base + "-" + UUID().uuidString
            try Git(directory: nil).check(["init", "--bare", "-q", scratch])
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: scratch)
            guard rename(scratch, folder) == 0 else {
                throw RemoteError.git(command: "init", reason: "cannot rename into \(folder): \(String(cString: strerror(errno)))")
            }
            guard isBare() else { throw RemoteError.git(command: "init", reason: "\(folder) is not a bare repository") }
        }
        removeStaleLocks(olderThan: started)
        try configure()
        for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(Self.temporaryPrefix) {
            try? fm.removeItem(atPath: folder + "/" + name)
        }
    }

    /// True when the folder is a bare repository git can open.
    func isBare() -> Bool {
        guard let r = try? git.run(["rev-parse", "--is-bare-repository"]), r.status == 0 else { return false }
        return Git.text(r.stdout) == "true"
    }

    /// Removes `*.lock` files older than `date` (outside the loose object folders): a git killed while it held one
    /// would otherwise fail every later sync.
    func removeStaleLocks(olderThan date: Date) {
        let fm = FileManager.default
        guard let walk = fm.enumerator(atPath: folder) else { return }
        while let relative = walk.nextObject() as? String {
            let parts = relative.split(separator: "/")
            if parts.count == 2, parts[0] == "objects", parts[1].count == 2 { walk.skipDescendants(); continue }
            guard relative.hasSuffix(".lock"), let attrs = try? fm.attributesOfItem(atPath: folder + "/" + relative),
                  attrs[.type] as? FileAttributeType == .typeRegular,
                  let modified = attrs[.modificationDate] as? Date, modified < date else { continue }
            try? fm.removeItem(atPath: folder + "/" + relative)
        }
    }

    /// Sets `origin`'s URL and refspec, and removes the partial-clone settings a fetch records (with them, reading a
    /// missing blob would download it whatever its size).
    private func configure() throws {
        var current: [String: [String]] = [:]
        for entry in try git.check(["config", "--local", "--list", "-z"]).split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            current[String(parts[0]), default: []].append(parts.count > 1 ? String(parts[1]) : "")
        }
        for (key, value) in [("remote.origin.url", url), ("remote.origin.fetch", Self.refspec)] where current[key] != [value] {
            try git.check(["config", "--replace-all", key, value])
        }
        // As git will reach it, fetch and push apart: the user's `url.*.insteadOf` and `pushInsteadOf` can turn any URL
        // into a local one, for one direction only (a local mirror to fetch from, ssh to push to). Only the direction
        // that is local gets the local server command: a git host's ssh shell accepts nothing but the plain program.
        let fetchURL = (try? git.check(["remote", "get-url", "origin"])).map(Git.text) ?? url
        let pushURL = (try? git.check(["remote", "get-url", "--push", "origin"])).map(Git.text) ?? url
        var wanted: [(String, String)] = []
        for (key, program, reached) in [("remote.origin.uploadpack", "upload-pack", fetchURL), ("remote.origin.receivepack", "receive-pack", pushURL)] {
            if RemoteAddress.isLocal(reached) {
                wanted.append((key, Self.localServer(program)))
            } else if current[key] != nil {
                try git.check(["config", "--unset-all", key])
            }
        }
        for (key, value) in wanted where current[key] != [value] {
            try git.check(["config", "--replace-all", key, value])
        }
        for key in ["remote.origin.promisor", "remote.origin.partialclonefilter"] where current[key] != nil {
            try git.check(["config", "--unset-all", key])
        }
    }

    /// The command git runs for `program` (`upload-pack`, `receive-pack`) on a repository of this machine. git clears the
    /// `-c` settings of its client for that process, which then reads the repository's own configuration and hooks: a
    /// repository in a folder other people can write (a shared or synced folder) could run their commands as this user
    /// at every sync. These settings, given to that process itself, turn off hooks, the alternate-refs command and
    /// garbage collection after a push, and never update a work tree (`receive.denyCurrentBranch=updateInstead` ran the
    /// repository's `core.fsmonitor` and smudge filters: review 41a).
    static func localServer(_ program: String) -> String {
        "git -c core.hooksPath=/dev/null -c core.alternateRefsCommand=true -c receive.autogc=false -c gc.auto=0 " +
            "-c receive.denyCurrentBranch=refuse -c core.fsmonitor=false \(program)"
    }

    /// What a fetch found.
    struct Fetched {
        /// The remote's `main`, or nil when it has none yet.
        let tip: String?
        /// True when the server ignored the size filter and sent every file.
        let filterIgnored: Bool
    }

    /// Fetches the remote's `main` alone, without files larger than `fileLimit` where the server allows filters.
    func fetch(fileLimit: Int) throws -> Fetched {
        // `blob:limit=N` leaves out the files of N bytes or more: N is one past the largest file read, so that what is
        // left out is exactly what no receiver reads (a file that missing can then be judged too large, §9.5).
        let r = try git.run(["fetch", "-q", "--no-tags", "--no-write-fetch-head", "--filter=blob:limit=\(fileLimit + 1)", "origin", Self.refspec],
                            options: ["remote.origin.promisor=true"])
        // The fetch recorded its filter in the config; without removing it, reading would fetch what was filtered.
        if (try? git.run(["config", "--get-all", "remote.origin.partialclonefilter"]))?.status == 0 {
            try git.check(["config", "--unset-all", "remote.origin.partialclonefilter"])
        }
        guard r.status == 0 else {
            guard r.stderr.contains("couldn't find remote ref") else {
                throw RemoteError.git(command: "fetch", reason: RemoteAddress.scrub(Git.reason(r), url: url))
            }
            _ = try git.run(["update-ref", "-d", Self.tracking])
            return Fetched(tip: nil, filterIgnored: false)
        }
        let tip = try git.run(["rev-parse", "-q", "--verify", Self.tracking + "^{commit}"])
        // A `main` that names a blob or a tree is the server's damage, not an empty remote: taken for none, every push
        // lost its "race" against it (a review: exit 5 after 12 retries, with no other admin).
        if tip.status != 0, (try? git.run(["rev-parse", "-q", "--verify", Self.tracking]))?.status == 0 {
            throw RemoteError.git(command: "fetch", reason: "the remote's main is not a commit; ask whoever runs the remote to repair it")
        }
        return Fetched(tip: tip.status == 0 ? Git.text(tip.stdout) : nil, filterIgnored: r.stderr.contains("filtering not recognized by server"))
    }

    /// True when commit `a` is `b` or one of its ancestors (false when either is unknown here).
    func isAncestor(_ a: String, of b: String) -> Bool {
        (try? git.run(["merge-base", "--is-ancestor", a, b]).status) == 0
    }

    /// True when this mirror holds the commit.
    func hasCommit(_ id: String) -> Bool {
        (try? git.run(["cat-file", "-e", id + "^{commit}"]).status) == 0
    }

    /// The tree entry modes of regular files.
    static let regularModes: Set<String> = ["100644", "100755"]

    /// Files added or changed from tree `old` to tree `new` (one folder of files at two commits, its own entries
    /// compared, not those of folders in it: `-r` expanded a tree bomb put there), with their blob ids and their paths
    /// relative to the folder.
    func changedFiles(fromTree old: String, toTree new: String) throws -> [(path: String, blob: String)] {
        let out = try listing(["diff-tree", "-z", "--no-renames", "--diff-filter=AM", old, new])
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

    /// The files of every room folder of commit `tip` (`RoomTreeWalk`), or with `marker` those added or changed since
    /// that commit; the folders of the rooms in `first` are listed before the others.
    func roomFiles(at tip: String, since marker: String?, first: Set<String>, skipped: Set<String> = []) throws -> RoomTreeWalk.Listing {
        var walk = RoomTreeWalk(self)
        // Folders set aside at the marker are compared with nothing: listed whole, as on a first sync.
        let old = try (marker.map { try walk.roomFolders(at: $0) } ?? [:]).filter { !skipped.contains($0.key) }
        return try walk.files(try walk.roomFolders(at: tip), since: old, first: first)
    }

    /// The files of commit `id` at `paths`, path -> blob id: a path naming a file gives that file; with `depth` 1 or 2,
    /// one naming a folder gives the files in it, and with 2 those in its folders too (the layout's deepest, `keys/EPOCH/`),
    /// never deeper. Each level is one `ls-tree` without `-r`, and the whole listing stops (`treeTooLarge`) past
    /// `walkFileLimit` entries: a recursive listing expanded a tree bomb put in a room's own `log` or `keys` folder
    /// (10^8 paths from a few KB), and a second level below `log/` (N folders of N files, two tree objects) listed N^2
    /// paths, both at every sync (two reviews).
    func files(at id: String, under paths: [String], depth: Int = 0) throws -> [String: String] {
        if depth == 0, paths.count > 64, let found = try filesOfRooms(at: id, paths) { return found }
        var result: [String: String] = [:]
        var folders: [String] = []
        var listed = 0
        func list(_ names: [String], keepFolders: Bool) throws {
            for start in stride(from: 0, to: names.count, by: Self.pathspecsPerListing) {
                let out = try listing(["ls-tree", "-z", id, "--"] + names[start..<min(start + Self.pathspecsPerListing, names.count)])
                for entry in TreeEntry.entries(of: out) {
                    listed += 1
                    if listed > walkFileLimit { throw RemoteError.treeTooLarge(command: "ls-tree", limit: walkFileLimit) }
                    if entry.type == "blob" { result[entry.path] = entry.id } else if keepFolders, entry.isTree { folders.append(entry.path) }
                }
            }
        }
        try list(paths, keepFolders: depth > 0)
        for level in 1...max(depth, 1) where !folders.isEmpty && level <= depth {
            let these = folders.map { $0 + "/" }
            folders = []
            try list(these, keepFolders: level < depth)
        }
        return result
    }

    /// The most paths one `ls-tree` is given: git compares each with every entry of the folders it lists.
    static let pathspecsPerListing = 500

    /// `files(at:under:)` of more than 64 files of the layout, at least 8 a room: the folders of their rooms listed by the
    /// tree walk (`RoomTreeWalk`: each tree object read once, within its limits), and the wanted files taken from that.
    /// Looked up 500 pathspecs at a time, files a sync had put off cost a listing of their folders per 500: 300,000 files
    /// in one folder took minutes at every sync, and so did 300,000 folders of one file each (two hostile reviews).
    /// Files in a room folder the walk sets aside are not found (the listing of that sync set it aside too). nil when a
    /// path is not of the layout, or the paths are too few a room for listing their rooms to pay.
    private func filesOfRooms(at id: String, _ paths: [String]) throws -> [String: String]? {
        var rooms = Set<String>()
        for path in paths {
            guard let entry = RemoteLayout.parse(path) else { return nil }
            rooms.insert(entry.room)
        }
        guard rooms.count * 8 <= paths.count else { return nil }
        var walk = RoomTreeWalk(self)
        let folders = try walk.roomFolders(at: id).filter { rooms.contains($0.key) }
        let wanted = Set(paths)
        var result: [String: String] = [:]
        for (path, blob) in try walk.files(folders).files where wanted.contains(path) { result[path] = blob }
        return result
    }

    /// The most bytes of paths one recursive listing of the remote's tree may produce (512 MiB: about 3.5 million
    /// files, room for 50,000 members' sender keys of 70 epochs). A tree that names one subtree ten times at each of
    /// eight levels lists 10^8 paths (over 10 GiB) from a 28 KB push: read whole, its listing took every member's sync
    /// out of memory (a hostile review). Past the limit, git is stopped. (64 MiB, the first limit, stopped a legitimate
    /// room of 50,000 members keeping ten epochs of sender keys: the second review.)
    static let maxListingBytes = 512 << 20
    /// The most files one listing of every room folder names: about what `maxListingBytes` of paths hold.
    static let maxListedFiles = 3_500_000

    /// The standard output of a recursive listing, read as it comes and stopped past `maxListingBytes`.
    func listing(_ args: [String]) throws -> Data {
        let limit = listingLimit
        let r = try git.run(args) { child in
            guard let data = Git.readAll(child, limit: limit) else { throw RemoteError.treeTooLarge(command: args.first ?? "", limit: limit) }
            return data
        }
        guard r.status == 0 else { throw RemoteError.git(command: args.first ?? "", reason: Git.reason(r)) }
        return r.stdout
    }
}
