import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand {
    /// `roomkey sync [REMOTE]`.
    struct Sync: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Fetch, receive what is new, publish staged changes and the outbox, and push, through a git remote.",
            discussion: """
                Receives only the files added since the last sync (a sealed marker in the keyring). A membership \
                change on a room with a remote is staged and becomes the room's head only once its push succeeds; \
                when another admin published that epoch first, sync receives the winner, plans the change again on \
                the new roster (dropping and reporting what is already done), and pushes again, with bounded retries \
                and jitter. The repository is untrusted: what it holds is received under the same rules as \
                'roomkey receive', and what it lacks (a rewind, a deleted file) is published again. Bundles are also \
                written to the outbox folder. Exit 5 when changes are still staged after the retries.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var outbox: OutboxOption
        @Argument(help: ArgumentHelp("The remote (default: the first added).", valueName: "remote")) var remote: String?

        func execute(_ output: Output) throws {
            let box = outbox.box
            let keyring = try openKeyring(outbox: box)
            let report = try keyring.sync(remote: remote, stateFolder: GlobalOptions.stateFolder) { try box.name($0) }
            try SyncDocument.emit(report, staged: nil, output: output)
        }
    }
}

/// `--no-sync` and the staging path shared by the membership commands.
struct StagingOptions: ParsableArguments {
    @Flag(name: .long, help: "On a room with a git remote: only stage the change; 'roomkey sync' publishes it.")
    var noSync = false

    /// Stages `changes` when the room has a remote and, unless `--no-sync`, syncs; false when the room has no remote
    /// (the caller then commits as before).
    func stageIfRemote(_ keyring: Keyring, room: String, _ changes: [MembershipChange], allowSameHandle: Bool = false,
                       outbox: Outbox, output: Output) throws -> Bool {
        guard let staged = try keyring.stage(room: room, changes, allowSameHandle: allowSameHandle) else { return false }
        if noSync || staged.operations.isEmpty {
            try SyncDocument.emit(nil, staged: staged, output: output)
            return true
        }
        let report = try keyring.sync(remote: staged.remote, stateFolder: GlobalOptions.stateFolder) { try outbox.name($0) }
        try SyncDocument.emit(report, staged: staged, output: output)
        return true
    }
}

/// The JSON and text result of `sync` and of a staged change.
struct SyncDocument: Encodable {
    struct Op: Encodable { let op: String, id: String? }
    struct Published: Encodable { let roomId: String, name: String, epoch: UInt64, operations: [Op] }
    struct Rebased: Encodable { let roomId: String, name: String, epoch: UInt64 }
    struct Dropped: Encodable { let roomId: String, name: String, operation: Op, reason: String }
    struct Behind: Encodable { let roomId: String, name: String, epoch: UInt64 }
    struct Note: Encodable { let roomId: String, name: String, epoch: UInt64, reason: String }
    struct Received: Encodable { let path: String, status: String, roomId: String?, epoch: UInt64?, error: String?, warning: String? }
    struct Staged: Encodable { let roomId: String, name: String, remote: String, operations: [Op], upToDate: Bool }

    let remote: String?
    let staged: Staged?
    let received: [Received]
    /// The results of paths naming a file met at another path, past the first 64: counted by status, not listed.
    let unlisted: [String: Int]
    let published: [Published]
    let rebased: [Rebased]
    let dropped: [Dropped]
    let behind: [Behind]
    let forks: [Note]
    let conflicts: [Note]
    let blocked: [Note]
    let refused: [Note]
    let repaired: [Note]
    let replaced: [Note]
    let rewound: Bool
    let filesPushed: Int
    let filesDeleted: Int
    let races: Int
    let stillStaged: Int
    let forked: [Rebased]
    let deferred: Int
    let filterIgnored: Bool
    let tip: String?

    /// The most files of the remote that sync names one warning line each.
    static let warnedFiles = 20

    static func op(_ o: RoomKeyCore.Operation) -> Op { Op(op: o.verb, id: o.subject?.hex) }

    static func notes(_ list: [SyncReport.LogNote]?) -> [Note] {
        (list ?? []).map { Note(roomId: $0.roomID.hex, name: $0.name, epoch: $0.epoch, reason: Output.oneLine($0.reason)) }
    }

    /// Prints the document (or its text lines and warnings) and exits 5 when changes are still staged.
    static func emit(_ r: SyncReport?, staged s: StagedChange?, output: Output) throws {
        let doc = SyncDocument(
            remote: r?.remote ?? s?.remote,
            staged: s.map { Staged(roomId: $0.room.id.hex, name: $0.room.name, remote: $0.remote, operations: $0.operations.map(op), upToDate: $0.operations.isEmpty) },
            received: (r?.received ?? []).map { Received(path: $0.path, status: $0.status.rawValue, roomId: $0.roomID?.hex, epoch: $0.epoch,
                                                          error: $0.error.map { Output.oneLine($0.message) },
                                                          warning: $0.warning.map { Output.oneLine($0) }) },
            unlisted: Dictionary(uniqueKeysWithValues: (r?.unlisted ?? [:]).map { ($0.key.rawValue, $0.value) }),
            published: (r?.published ?? []).map { Published(roomId: $0.roomID.hex, name: $0.name, epoch: $0.epoch, operations: $0.operations.map(op)) },
            rebased: (r?.rebased ?? []).map { Rebased(roomId: $0.roomID.hex, name: $0.name, epoch: $0.epoch) },
            dropped: (r?.dropped ?? []).map { Dropped(roomId: $0.roomID.hex, name: $0.name, operation: op($0.operation), reason: $0.reason) },
            behind: (r?.behind ?? []).map { Behind(roomId: $0.roomID.hex, name: $0.name, epoch: $0.epoch) },
            forks: notes(r?.forks), conflicts: notes(r?.conflicts), blocked: notes(r?.blocked), refused: notes(r?.refused), repaired: notes(r?.repaired),
            replaced: notes(r?.replaced),
            rewound: r?.rewound ?? false, filesPushed: r?.filesPushed ?? 0, filesDeleted: r?.filesDeleted ?? 0, races: r?.races ?? 0,
            stillStaged: r?.stillStaged ?? (s?.operations.isEmpty == false ? 1 : 0),
            forked: (r?.forked ?? []).map { Rebased(roomId: $0.roomID.hex, name: $0.name, epoch: $0.epoch) }, deferred: r?.deferred ?? 0,
            filterIgnored: r?.filterIgnored ?? false, tip: r?.tip)
        output.confirmation(doc) { doc.lines(synced: r != nil) }
        for b in doc.behind { output.warn("remote is behind this keyring at epoch \(b.epoch) in room \(Output.oneLine(b.name)); published again") }
        if doc.rewound { output.warn("the remote's branch was rewound since the last sync") }
        // At most `warnedFiles` lines: a remote full of junk folders printed one line each (25,000 in a review).
        let refused = doc.received.filter { $0.status == "rejected" || $0.status == "malformed" }
        for x in refused.prefix(Self.warnedFiles) { output.warn("\(x.path): \(x.status): \(x.error ?? "")") }
        if refused.count > Self.warnedFiles {
            output.warn("\(refused.count - Self.warnedFiles) more file(s) of the remote rejected or malformed (all of them are in --json)")
        }
        // What a received file brought that the user should know (a room named like one held here): it was printed by
        // `receive` and not by sync (a review).
        for x in doc.received { if let warning = x.warning { output.warn("\(x.path): \(warning)") } }
        for line in doc.repairWarnings() { output.warn(line) }
        for n in r?.leftOut ?? [] where !doc.blocked.contains(where: { $0.roomId == n.roomID.hex && $0.epoch == n.epoch }) {
            output.warn("epoch \(n.epoch) of room \(Output.oneLine(n.name)) on the remote is not sealed to this keyring: you were removed, or the file is not what it claims",
                        hint: "if you are still a member, ask an admin to look at the room's log on the remote")
        }
        // Said also when a staged change waits on that file: the hint is how to catch up (a review).
        for n in r?.ownAhead ?? [] {
            output.warn("epoch \(n.epoch) of room \(Output.oneLine(n.name)) on the remote is a commit of this identity that this keyring does not hold: it was restored from a backup older than that commit, or the file only claims so",
                        hint: "catch up before changing members: ask a member for 'roomkey outbox resend ROOM --epoch \(n.epoch) --with-commit' and receive it (a change made now waits while another member is seen to hold a later epoch, and replaces the file otherwise)")
        }
        for n in doc.replaced {
            output.warn("the remote's file \(n.reason) in room \(Output.oneLine(n.name)) held other bytes than this member's; written again")
        }
        for n in doc.conflicts where !doc.forks.contains(where: { $0.roomId == n.roomId && $0.epoch == n.epoch }) {
            output.warn("the remote holds another commit for epoch \(n.epoch) of room \(Output.oneLine(n.name)) than this keyring: \(n.reason)")
        }
        if !doc.forks.isEmpty {
            for n in doc.forks {
                Output.stderr("roomkey: error: room \(Output.oneLine(n.name, keepingLineFeeds: true)) forked at epoch \(n.epoch): the remote holds another admin's commit for it")
            }
            Output.stderr("roomkey: hint: compare room fingerprints with the other admins; 'roomkey room resolve ROOM' keeps this keyring's branch")
            throw ExitCode(ExitStatus.rejected)
        }
        if r != nil, doc.stillStaged > 0 {
            if let f = doc.forked.first {
                // Nothing is published in a forked room: retrying cannot help until an admin resolves the fork.
                let name = Output.oneLine(f.name)
                Output.stderr("roomkey: error: room \(name) is forked; resolve it first (\(ShellWord.command(["room", "resolve"], [ShellWord.reference(f.name, id: f.roomId)]))); its staged changes are kept")
            } else {
                for n in doc.blocked {
                    Output.stderr("roomkey: error: epoch \(n.epoch) of room \(Output.oneLine(n.name)) holds a commit this keyring cannot apply: \(n.reason)")
                }
                for n in doc.refused {
                    Output.stderr("roomkey: error: the change staged for room \(Output.oneLine(n.name)) is refused now: \(n.reason)")
                }
                if doc.blocked.isEmpty && doc.refused.isEmpty {
                    // No race lost: the change was staged by another command while this sync ran (a review: the message
                    // blamed other admins, when there were none).
                    let why = doc.races > 0 ? "other admins kept publishing first" : "staged while this sync ran"
                    Output.stderr("roomkey: error: \(doc.stillStaged) staged change(s) not published yet: \(why)")
                }
                // Waiting on this identity's own later commit, another sync alone never helps: catching up does.
                let own = r?.ownAhead ?? []
                let waitsOnOwn = !doc.blocked.isEmpty && doc.blocked.allSatisfy { b in own.contains { $0.roomID.hex == b.roomId && $0.epoch == b.epoch } }
                Output.stderr(waitsOnOwn ? "roomkey: hint: catch up first, as the warning above says, or, once the members confirm that your epoch is the latest, run 'roomkey room resolve ROOM'; staged changes are kept"
                              : "roomkey: hint: run 'roomkey sync' again; staged changes are kept")
            }
            throw ExitCode(ExitStatus.pending)
        }
    }

    /// The warnings for the commit files published again: one per room and reason, a run of epochs as a range
    /// ("epochs 1-799"), so a remote that lost hundreds of files does not print hundreds of lines.
    func repairWarnings() -> [String] {
        repaired.groupedInOrder { [$0.roomId, $0.reason] }.compactMap { group in
            guard let first = group.first else { return nil }
            let what = first.reason == "missing" ? "missing" : "invalid: \(first.reason)"
            let room = Output.oneLine(first.name)
            guard group.count > 1 else {
                return "the remote's commit file of epoch \(first.epoch) in room \(room) was \(what); published again"
            }
            return "the remote's commit files of epochs \(Self.ranges(group.map(\.epoch).sorted())) in room \(room) were \(what); published again"
        }
    }

    /// Sorted epochs written as ranges: `1-3, 5`.
    static func ranges(_ sorted: [UInt64]) -> String {
        var parts: [String] = []
        var start = 0
        while start < sorted.count {
            var end = start
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(start == end ? "\(sorted[start])" : "\(sorted[start])-\(sorted[end])")
            start = end + 1
        }
        return parts.joined(separator: ", ")
    }

    func lines(synced: Bool) -> [String] {
        var out: [String] = []
        if let staged {
            out.append(staged.upToDate ? "room \(Output.oneLine(staged.name)) is already up to date"
                       : "staged in room \(Output.oneLine(staged.name)): " + staged.operations.map { "\($0.op) \($0.id ?? "")" }.joined(separator: ", "))
            if !synced && !staged.upToDate { out.append("run 'roomkey sync' to publish it through remote \(staged.remote)") }
        }
        guard synced else { return out }
        let applied = received.filter { $0.status == "applied" }.count
        // The other files by status, as receive counts them: pending ones wait for a later sync, they are not skipped.
        let others = ReceiveReport.counted(received.map(\.status), leaving: ["applied"], extra: unlisted)
        out.append("received \(applied) bundle(s) from \(remote ?? "the remote")" + (others.isEmpty ? "" : " (" + others.joined(separator: ", ") + ")"))
        for p in published {
            out.append("published room \(Output.oneLine(p.name)) epoch \(p.epoch): " + p.operations.map { "\($0.op) \($0.id ?? "")" }.joined(separator: ", "))
        }
        for r in rebased { out.append("another admin took epoch \(r.epoch) of room \(Output.oneLine(r.name)); planned again") }
        for d in dropped { out.append("dropped in room \(Output.oneLine(d.name)): \(d.operation.op) \(d.operation.id ?? ""): \(d.reason)") }
        out.append("pushed \(filesPushed) file(s)" + (filesDeleted > 0 ? ", removed \(filesDeleted) (expired keys, withdrawn leave requests)" : ""))
        if deferred > 0 { out.append("\(deferred) file(s) left for the next sync (this one read as much as it may)") }
        if filterIgnored { out.append("the server does not filter by size: every file was downloaded (git config uploadpack.allowFilter true on it avoids that)") }
        return out
    }
}
