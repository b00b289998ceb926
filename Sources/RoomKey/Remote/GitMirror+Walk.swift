import Foundation
import RoomKeyCore

/// Lists the files of room folders by reading each tree object once (`cat-file --batch`, level by level) and counting
/// each folder's files per distinct tree before naming any path. A tree that names one subtree many times (a "git
/// bomb") costs its size in objects, not in paths: a 28 KB push naming 10^8 paths in one made-up room folder stopped
/// every member's sync, because `ls-tree -r` of `rooms/` expanded it (a hostile review). Now that folder alone is set
/// aside (`oversized`) and every other room is listed. Only the layout's folders are walked (`log`, `leave`: files;
/// `keys`, `resent`: one folder level, then files), never deeper, and names holding a slash are skipped.
struct RoomTreeWalk {
    /// One entry of a tree object.
    struct Entry {
        let name: String
        let id: String
        let isTree: Bool
        let isFile: Bool
    }

    /// What a listing found: files (path from the repository root, blob id), and the room folders set aside.
    struct Listing {
        var files: [(path: String, blob: String)] = []
        /// Room folders whose files are not listed, with why.
        var oversized: [(folder: String, why: SetAside)] = []
    }

    /// Why a room folder was set aside.
    enum SetAside: Equatable {
        /// It names this many files: more than `fileLimit`, or than this listing had room for after the others.
        case files(Int)
        /// Its tree objects take at least this many bytes: more than what was left of `byteLimit` when its turn came.
        case treeBytes(Int)
        /// It names this many files in trees another room folder names too, more than what was left of `fileLimit`
        /// at `repeatCost` each.
        case repeated(Int)
    }

    let mirror: GitMirror
    /// The most files one listing names (about as many as 512 MiB of `ls-tree -r` output: 3.5 million).
    let fileLimit: Int
    /// The most bytes of tree objects one walk reads (each distinct tree once).
    let byteLimit: Int
    private var trees: [String: [Entry]] = [:]
    /// File counts by room folder tree, and by the tree of one folder of `keys` or `resent`.
    private var counts: [String: Int] = [:], nestedCounts: [String: Int] = [:]
    private var bytesRead = 0

    init(_ mirror: GitMirror) {
        self.mirror = mirror
        fileLimit = mirror.walkFileLimit
        byteLimit = mirror.listingLimit
    }

    /// What a file costs of `fileLimit` in a room folder that names a layout tree listed under another room folder.
    static let repeatCost = 16

    /// Folders of a room folder, and what each holds: files only, or one level of folders of files.
    static let layout: [String: Bool] = ["log": false, "leave": false, "keys": true, "resent": true]

    /// The room folders of commit `commit`: room id -> tree id (entries not named by a room id are never read).
    mutating func roomFolders(at commit: String) throws -> [String: String] {
        guard let rootID = try treeOf(commit: commit) else { return [:] }
        try load([rootID])
        guard let rooms = trees[rootID]?.first(where: { $0.isTree && $0.name == RemoteLayout.root }) else { return [:] }
        try load([rooms.id])
        var folders: [String: String] = [:]
        for entry in trees[rooms.id] ?? [] where entry.isTree && RemoteLayout.isRoomID(entry.name) && folders[entry.name] == nil {
            folders[entry.name] = entry.id
        }
        return folders
    }

    /// The files of the room folders `folders` (room id -> tree id), those of rooms in `first` listed before the others.
    /// With `old`, only files added or changed since the folders `old` names (a folder with the same tree is skipped).
    mutating func files(_ folders: [String: String], since old: [String: String] = [:], first: Set<String> = []) throws -> Listing {
        let changed = folders.filter { old[$0.key] != $0.value }
        let order = changed.keys.sorted { (first.contains($0) ? 0 : 1, $0) < (first.contains($1) ? 0 : 1, $1) }
        let tooLarge = try loadLayout(order.map { id in (id, [changed[id], old[id]].compactMap { $0 }) }, held: first)
        var listing = Listing()
        var room = fileLimit
        // Layout folder trees listed under a room folder already, by room id. Two rooms never hold the same files (each
        // file names its room), so a folder that names another's tree again costs `repeatCost` times its files: 1,200
        // made-up room folders naming one 3,000-file tree (190 KB pushed) made every member's sync list 3.5 million
        // paths, 30 s and 1.8 GB (a hostile review); a folder of its own trees costs what it did.
        var listedTrees: [String: String] = [:]
        for id in order {
            guard let tree = changed[id] else { continue }
            if let bytes = tooLarge[id] {
                listing.oversized.append((RemoteLayout.roomFolder(id), .treeBytes(bytes)))
                continue
            }
            let own = layoutTrees([tree], level: 1) + layoutTrees([tree], level: 2)
            let repeats = own.contains { listedTrees[$0].map { $0 != id } ?? false }
            let count = fileCount(tree)
            let cost = repeats ? count.multipliedReportingOverflow(by: Self.repeatCost).partialValue : count
            guard cost <= room, cost >= count else {
                listing.oversized.append((RemoteLayout.roomFolder(id), repeats ? .repeated(count) : .files(count)))
                continue
            }
            room -= cost
            for t in own where listedTrees[t] == nil { listedTrees[t] = id }
            // Compared with the old folder tree by tree: a subtree with the same id is skipped unread, so the old side
            // costs its changed trees' entries, never its paths (expanding it whole let a folder that was a tree bomb
            // at the marker, and small now, name every one of the bomb's paths).
            for (path, blob) in layoutFiles(tree, since: old[id]).sorted(by: { $0.key < $1.key }) {
                listing.files.append((RemoteLayout.roomFolder(id) + "/" + path, blob))
            }
        }
        return listing
    }

    /// The files under a room folder's tree, path relative to it -> blob id; with `old`, only those added or changed
    /// since that tree of the folder, found by comparing tree ids level by level (an unchanged subtree is not read).
    private func layoutFiles(_ tree: String, since old: String? = nil) -> [String: String] {
        func byName(_ tree: String?) -> [String: Entry] {
            guard let tree else { return [:] }
            return Dictionary(entries(tree).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        }
        var out: [String: String] = [:]
        let oldFolders = byName(old)
        for folder in entries(tree) where folder.isTree {
            guard let nested = Self.layout[folder.name] else { continue }
            let oldFolder = oldFolders[folder.name].flatMap { $0.isTree ? $0.id : nil }
            if oldFolder == folder.id { continue }
            let oldEntries = byName(oldFolder)
            for entry in entries(folder.id) {
                let was = oldEntries[entry.name]
                if !nested, entry.isFile, was?.isFile != true || was?.id != entry.id { out["\(folder.name)/\(entry.name)"] = entry.id }
                guard nested, entry.isTree else { continue }
                let oldNested = was.flatMap { $0.isTree ? $0.id : nil }
                if oldNested == entry.id { continue }
                let oldFiles = byName(oldNested)
                for file in entries(entry.id) where file.isFile {
                    let before = oldFiles[file.name]
                    if before?.isFile == true, before?.id == file.id { continue }
                    out["\(folder.name)/\(entry.name)/\(file.name)"] = file.id
                }
            }
        }
        return out
    }

    /// How many files `layoutFiles(tree)` would name, counted once per distinct tree (saturating past `fileLimit`):
    /// folders that share trees cost their distinct trees, not their paths.
    private mutating func fileCount(_ tree: String) -> Int {
        if let known = counts[tree] { return known }
        var total = 0
        outer: for folder in entries(tree) where folder.isTree {
            guard let nested = Self.layout[folder.name] else { continue }
            for entry in entries(folder.id) {
                if !nested, entry.isFile { total += 1 }
                if nested, entry.isTree {
                    let inner = nestedCounts[entry.id] ?? entries(entry.id).reduce(0) { $0 + ($1.isFile ? 1 : 0) }
                    nestedCounts[entry.id] = inner
                    total += inner
                }
                if total > fileLimit { break outer }
            }
        }
        counts[tree] = total
        return total
    }

    private func entries(_ tree: String) -> [Entry] { trees[tree] ?? [] }

    /// Reads the layout's trees under each room folder (room id and its folder trees, new and old), three levels, each
    /// distinct tree once, rooms in the order given. Each level's sizes are asked first (`--batch-check`): a room whose
    /// new trees do not fit in what is left of `byteLimit` is read no further and comes back, with the bytes it
    /// needed, to be set aside. Before, more distinct trees than the limit (a 2.4 MB push, thanks to deltas) stopped
    /// every member's sync (a hostile review); now they cost that one folder.
    private mutating func loadLayout(_ rooms: [(id: String, roots: [String])], held: Set<String> = []) throws -> [String: Int] {
        var aside: [String: Int] = [:], spent: [String: Int] = [:]
        var kept = rooms
        for level in 0..<3 {
            var wanted = kept.map { room in (room.id, Set(level == 0 ? room.roots : layoutTrees(room.roots, level: level))) }
            let sizes = try treeSizes(Set(wanted.flatMap(\.1)).filter { trees[$0] == nil })
            // Smallest first within each class (held rooms, then the others): a folder grown to fill what is left of
            // the budget then crowds out only itself, never the held rooms after it in id order.
            let need = Dictionary(wanted.map { ($0.0, $0.1.reduce(0) { $0 + (trees[$1] == nil ? sizes[$1] ?? 0 : 0) }) },
                                  uniquingKeysWith: { a, _ in a })
            wanted.sort { a, b in
                let (ha, hb) = (held.contains(a.0) ? 0 : 1, held.contains(b.0) ? 0 : 1)
                return (ha, need[a.0] ?? 0, a.0) < (hb, need[b.0] ?? 0, b.0)
            }
            var charged = Set<String>(), cost = 0
            var fits = Set<String>()
            for (id, ids) in wanted {
                let new = ids.filter { trees[$0] == nil && !charged.contains($0) }
                let bytes = new.reduce(0) { $0 + (sizes[$1] ?? 0) }
                guard bytesRead + cost + bytes <= byteLimit else {
                    aside[id] = spent[id, default: 0] + bytes
                    continue
                }
                cost += bytes
                spent[id, default: 0] += bytes
                charged.formUnion(new)
                fits.insert(id)
            }
            kept = kept.filter { fits.contains($0.id) }
            try load(Array(charged))
        }
        return aside
    }

    /// The trees of the layout's folders under the room folder trees `roots` (loaded): level 1, the folders themselves;
    /// level 2, the folders inside `keys` and `resent`.
    private func layoutTrees(_ roots: [String], level: Int) -> [String] {
        let folders = roots.flatMap { entries($0).filter { $0.isTree && Self.layout[$0.name] != nil } }
        if level == 1 { return folders.map(\.id) }
        return folders.filter { Self.layout[$0.name] == true }.flatMap { entries($0.id).filter(\.isTree).map(\.id) }
    }

    /// The sizes of the objects `ids` (missing ones left out), from one `cat-file --batch-check`.
    private func treeSizes(_ ids: Set<String>) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        var sizes: [String: Int] = [:]
        let r = try mirror.git.run(["cat-file", "--batch-check"], input: Data(ids.map { $0 + "\n" }.joined().utf8),
                                   env: ["GIT_NO_LAZY_FETCH": "1"]) { child in
            var reader = OutputReader(child)
            for _ in ids {
                guard let line = reader.line() else { break }
                let f = line.split(separator: " ")
                if f.count == 3, ids.contains(String(f[0])), let size = Int(f[2]), size >= 0 { sizes[String(f[0])] = size }
            }
            return Data()
        }
        guard r.status == 0 else { throw RemoteError.git(command: "cat-file", reason: Git.reason(r)) }
        return sizes
    }

    /// The tree of commit `commit`, nil when the mirror does not hold it.
    private func treeOf(commit: String) throws -> String? {
        let r = try mirror.git.run(["rev-parse", "-q", "--verify", commit + "^{tree}"])
        return r.status == 0 ? Git.text(r.stdout) : nil
    }

    /// Reads the trees of `ids` not read yet, with one `cat-file --batch`.
    private mutating func load(_ ids: [String]) throws {
        var seen = Set<String>()
        let wanted = ids.filter { trees[$0] == nil && seen.insert($0).inserted }
        guard !wanted.isEmpty else { return }
        var read: [String: [Entry]] = [:]
        let limit = byteLimit - bytesRead, whole = byteLimit
        var total = 0
        let r = try mirror.git.run(["cat-file", "--batch"], input: Data(wanted.map { $0 + "\n" }.joined().utf8),
                                   env: ["GIT_NO_LAZY_FETCH": "1"]) { child in
            var reader = OutputReader(child)
            for _ in wanted {
                guard let header = reader.line() else { break }
                let f = header.split(separator: " ")
                guard f.count == 3, let size = Int(f[2]), size >= 0 else { continue }
                total += size
                // Thrown, not returned: `Git.run` then stops git. Returning left git blocked writing the rest of its
                // output while `run` waited for it to exit (a sync hung until the 15-minute timeout).
                guard total <= limit else { throw RemoteError.treeTooLarge(command: "cat-file", limit: whole) }
                guard f[1] == "tree", let bytes = reader.bytes(size) else { reader.skip(size); reader.skip(1); continue }
                read[String(f[0])] = Self.parseTree(bytes, idLength: f[0].utf8.count / 2)
                reader.skip(1)
            }
            return Data()
        }
        guard r.status == 0 else { throw RemoteError.git(command: "cat-file", reason: Git.reason(r)) }
        bytesRead += total
        for id in wanted { trees[id] = read[id] ?? [] }
    }

    /// The entries of a tree object: `mode SP name NUL id` each, `id` raw. Anything malformed ends the list; names
    /// holding a slash, and modes other than a folder's and a regular file's, are kept out of the listing.
    static func parseTree(_ bytes: [UInt8], idLength: Int) -> [Entry] {
        var out: [Entry] = []
        var i = 0
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: 32), let nul = bytes[space...].firstIndex(of: 0),
                  nul + 1 + idLength <= bytes.count else { break }
            let mode = String(decoding: bytes[i..<space], as: UTF8.self)
            let name = String(decoding: bytes[(space + 1)..<nul], as: UTF8.self)
            let id = Hex.encode(Array(bytes[(nul + 1)..<(nul + 1 + idLength)]))
            i = nul + 1 + idLength
            guard !name.contains("/"), !name.isEmpty else { continue }
            let isTree = mode == "40000", isFile = GitMirror.regularModes.contains(mode)
            if isTree || isFile { out.append(Entry(name: name, id: id, isTree: isTree, isFile: isFile)) }
        }
        return out
    }
}
