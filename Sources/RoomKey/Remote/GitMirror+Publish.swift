import Foundation

/// Writing to the remote: a commit built without a work tree, pushed without force.
extension GitMirror {
    /// Builds a commit on `parent` (nil: the first one) that adds or replaces `add` and deletes `delete`; returns its id.
    func commit(parent: String?, add: [(path: String, bytes: [UInt8])], delete: [String]) throws -> String {
        try withScratch { scratch in
            let blobs = add.isEmpty ? [] : try hashObjects(add.map(\.bytes), in: scratch, write: true)
            let index = ["GIT_INDEX_FILE": scratch + "/index"]
            try git.check(parent.map { ["read-tree", $0] } ?? ["read-tree", "--empty"], env: index)
            var info = Data()
            for (item, blob) in zip(add, blobs) { info.append(Data("100644 \(blob)\t\(item.path)\0".utf8)) }
            for path in delete { info.append(Data("0 0000000000000000000000000000000000000000\t\(path)\0".utf8)) }
            try git.check(["update-index", "-z", "--index-info"], input: info, env: index)
            let tree = Git.text(try git.check(["write-tree"], env: index))
            return Git.text(try git.check(["commit-tree", "--no-gpg-sign", tree] + (parent.map { ["-p", $0] } ?? []) + ["-m", "roomkey sync"]))
        }
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
