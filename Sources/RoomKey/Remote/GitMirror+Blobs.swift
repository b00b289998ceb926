import Foundation

/// What reading a set of blobs from the mirror found.
struct BlobBatch {
    /// Contents, by blob id.
    var bytes: [String: [UInt8]] = [:]
    /// Blobs that were not read, by id, with the reason: larger than the file limit (never buffered), not in the mirror
    /// (the server filtered them out) or unreadable. Sync reports each as malformed and moves on.
    var unreadable: [String: String] = [:]
    /// Blobs left for the next sync because reading them would pass this sync's byte budget.
    var deferred: Set<String> = []
    /// Of `unreadable`, the blobs known to be larger than the file limit: their size said so, or they are missing after
    /// a fetch whose size filter the server applied (it leaves out exactly the files larger than the limit).
    var oversized: Set<String> = []
}

/// Reading files without holding more than they need in memory.
extension GitMirror {
    /// Reads blobs: their sizes first (`cat-file --batch-check`, which never downloads), then, as a stream, those no
    /// larger than `limit` that fit in `budget` when the smallest are taken first; the others are deferred. A large
    /// file never keeps smaller ones from being read: a file of junk that filled the budget, pushed at a path every
    /// sync reads again, left every file after it unread at every sync (two reviews: larger than the budget, then
    /// exactly as large). When none fits, the smallest is read whatever the budget, so every sync moves on.
    /// `first` (blob ids, oldest first: files an earlier sync left unread) go before the smallest-first fill, the
    /// first of them whatever the budget: a file larger than what the others leave is read at last instead of being
    /// put off at every sync (a review of the smallest-first order found a legitimate large file starved for ever).
    func readBlobs(_ ids: [String], limit: Int, budget: Int, first: [String] = [], missingAreFiltered: Bool = false) throws -> BlobBatch {
        var batch = BlobBatch()
        var seen = Set<String>(), unique: [String] = []
        for id in ids where seen.insert(id).inserted { unique.append(id) }
        guard !unique.isEmpty else { return batch }
        // No promisor is configured (GitMirror.configure), so a missing blob reads as missing; git 2.45 and later also
        // honour GIT_NO_LAZY_FETCH.
        let noFetch = ["GIT_NO_LAZY_FETCH": "1"]
        let check = try git.check(["cat-file", "--batch-check"], input: Data(unique.map { $0 + "\n" }.joined().utf8), env: noFetch)
        var sizes: [String: (type: String, size: Int)] = [:]
        for line in check.split(separator: 10) {
            let f = String(decoding: line, as: UTF8.self).split(separator: " ")
            if f.count == 3, let size = Int(f[2]), size >= 0 { sizes[String(f[0])] = (String(f[1]), size) }
        }
        var candidates: [(id: String, size: Int)] = []
        for id in unique {
            guard let info = sizes[id] else {
                batch.unreadable[id] = "the remote did not provide this file"
                if missingAreFiltered { batch.oversized.insert(id) }
                continue
            }
            guard info.type == "blob" else { batch.unreadable[id] = "not a file"; continue }
            guard info.size <= limit else {
                batch.unreadable[id] = "larger than \(limit) bytes"
                batch.oversized.insert(id)
                continue
            }
            candidates.append((id, info.size))
        }
        var chosen = Set<String>(), total = 0
        let sizeOf = Dictionary(candidates.map { ($0.id, $0.size) }, uniquingKeysWith: { a, _ in a })
        for id in first {
            guard let size = sizeOf[id], !chosen.contains(id) else { continue }
            if total + size > budget && !chosen.isEmpty { break }
            chosen.insert(id)
            total += size
        }
        for c in candidates.enumerated().sorted(by: { ($0.element.size, $0.offset) < ($1.element.size, $1.offset) }).map(\.element)
            where !chosen.contains(c.id) {
            if total + c.size > budget { if chosen.isEmpty { chosen.insert(c.id) }; break }
            chosen.insert(c.id)
            total += c.size
        }
        let wanted = candidates.map(\.id).filter { chosen.contains($0) }
        for c in candidates where !chosen.contains(c.id) { batch.deferred.insert(c.id) }
        guard !wanted.isEmpty else { return batch }
        var read: [String: [UInt8]] = [:]
        let r = try git.run(["cat-file", "--batch"], input: Data(wanted.map { $0 + "\n" }.joined().utf8), env: noFetch) { child in
            var reader = OutputReader(child)
            for _ in wanted {
                guard let header = reader.line() else { break }
                let f = header.split(separator: " ")
                guard f.count == 3, let size = Int(f[2]), size >= 0 else { continue }
                if f[1] == "blob", size <= limit, let bytes = reader.bytes(size) {
                    read[String(f[0])] = bytes
                } else {
                    reader.skip(size)
                }
                reader.skip(1)
            }
            return Data()
        }
        batch.bytes = read
        for id in wanted where read[id] == nil {
            batch.unreadable[id] = r.status == 0 ? "could not be read" : "could not be read: \(Git.reason(r))"
        }
        return batch
    }
}

extension GitMirror {
    /// Reads `ids` batch by batch (`readBlobs`, each within `budget`), handing each batch to `body` before the next is
    /// read, until no blob is left: every blob is read once, and none is kept beyond its batch.
    func forEachBatch(_ ids: [String], limit: Int, budget: Int, missingAreFiltered: Bool = false, _ body: (BlobBatch) throws -> Void) throws {
        var remaining = ids
        while !remaining.isEmpty {
            let batch = try readBlobs(remaining, limit: limit, budget: budget, missingAreFiltered: missingAreFiltered)
            try body(batch)
            remaining = remaining.filter { batch.deferred.contains($0) }
        }
    }
}

/// Buffered reading of a child's standard output: lines and exact byte counts.
struct OutputReader {
    private let child: Subprocess
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0, end = 0

    init(_ child: Subprocess) { self.child = child }

    /// Refills the buffer; false at the end of the output.
    private mutating func fill() -> Bool {
        if start < end { return true }
        start = 0
        end = buffer.withUnsafeMutableBytes { raw in raw.baseAddress.map { child.read(into: $0, count: raw.count) } ?? 0 }
        return end > 0
    }

    /// The next line without its newline (at most 4 KiB), or nil at the end.
    mutating func line() -> String? {
        var out: [UInt8] = []
        while fill() {
            if let nl = buffer[start..<end].firstIndex(of: 10) {
                out += buffer[start..<nl]
                start = nl + 1
                return String(decoding: out.prefix(4096), as: UTF8.self)
            }
            if out.count < 4096 { out += buffer[start..<end] }
            start = end
        }
        return out.isEmpty ? nil : String(decoding: out.prefix(4096), as: UTF8.self)
    }

    /// Exactly `count` bytes, or nil when the output ends first.
    mutating func bytes(_ count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count, fill() {
            let n = min(count - out.count, end - start)
            out += buffer[start..<(start + n)]
            start += n
        }
        return out.count == count ? out : nil
    }

    /// Reads past `count` bytes without keeping them.
    mutating func skip(_ count: Int) {
        var left = count
        while left > 0, fill() {
            let n = min(left, end - start)
            start += n
            left -= n
        }
    }
}
