import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room list`.
    struct List: KeyringCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List rooms: id, name, epoch, members, your role.")

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            // One room row and one summary row per room: no roster and no contact is opened.
            let docs = try openKeyring().roomListings().map(RoomSummary.init)
            output.result(["rooms": docs]) {
                // A table with a header, as `contact list` prints, even when there is no room yet.
                let width = max(4, docs.map(\.name.count).max() ?? 0)
                return ["\("NAME".padding(width))  ROOM ID                           EPOCH  MEMBERS  ROLE    NOTES"] + docs.map {
                    "\($0.name.padding(width))  \($0.roomId)  \(String($0.epoch).padding(5))  \(String($0.members).padding(7))  \($0.role.padding(6))"
                        + ($0.forked ? "  FORKED" : "")
                        + ($0.keyChanged > 0 ? "  \($0.keyChanged) KEY-CHANGED" : "") + ($0.unverified > 0 ? "  \($0.unverified) unverified" : "")
                        + ($0.postQuantum ? "  pq" : "  \($0.classicalMembers.count) on v1 cards: \(Self.someNames($0.classicalMembers))")
                        + ($0.requirePq ? " (pq required)" : "")
                }
            }
        }

        /// The most names a table line gives of a room's members on version 1 cards (`--json` and `room show` list all).
        static let namesShown = 5

        /// `names` joined, or the first `namesShown` of them and how many more: one line stays readable at any size.
        static func someNames(_ names: [String]) -> String {
            guard names.count > namesShown else { return SafeText.quotedList(names) }
            return SafeText.quotedList(names.prefix(namesShown)) + " and \(names.count - namesShown) more (see 'roomkey room show')"
        }

        struct RoomSummary: Encodable {
            let roomId: String, name: String, epoch: UInt64, members: Int, admin: Bool, member: Bool, forked: Bool, left: Bool
            let unverified: Int, keyChanged: Int
            let postQuantum: Bool, requirePq: Bool, classicalMembers: [String]
            init(_ r: RoomListing) {
                postQuantum = r.summary.classicalCount == 0
                requirePq = r.requirePQ
                classicalMembers = r.summary.classical.map(\.name)
                unverified = r.summary.count(.unverified) + r.summary.count(.notContact)
                keyChanged = r.summary.count(.keyChanged)
                roomId = r.id.hex
                name = r.name
                epoch = r.epoch
                members = r.summary.members
                admin = r.summary.isAdmin
                member = r.summary.isMember
                forked = r.forked
                left = r.left
            }
            var role: String { left || !member ? "left" : (admin ? "admin" : "member") }
        }
    }

    /// `roomkey room show ROOM`.
    struct Show: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a room: id, epoch, head, fingerprint (and whether you confirmed it), members with role and trust, fork state.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            // Streamed: the header, then one line (or JSON object) per member as it is read.
            var oldKeys: [(id: IdentityID, contact: String, pending: Bool)] = []
            var unresolved: [(id: IdentityID, handle: String)] = []
            var lookalikeWarnings: [String] = []
            var roomName = "", jsonTail = ""
            var first = true
            try openKeyring().showRoom(room, header: { h in
                roomName = ShellWord.reference(h.name, id: h.id.hex)
                let doc = RoomShowHead(h)
                jsonTail = doc.jsonAfterMembers
                if output.json { return output.stream(doc.jsonBeforeMembers) }
                output.stream(["room:        \(doc.name)", "id:          \(doc.roomId)", "epoch:       \(doc.epoch)", "head:        \(doc.head)",
                               "fingerprint: \(RoomFingerprint.grouped(doc.fingerprint)) (\(doc.fingerprintConfirmed ? "confirmed" : "not confirmed") at this epoch)",
                               "forked:      \(doc.forked ? "YES (\(h.forkHeads.joined(separator: " vs ")))" : "no")",
                               h.left ? "left:        yes, by you ('roomkey room rejoin' takes the room back)" : nil,
                               h.restored ? "restored:    yes, from a backup, and not yet found caught up by a sync (a change waits while the remote shows a later epoch)" : nil,
                               "retention:   \(DurationText.format(doc.retentionSeconds)) (superseded sender keys, then deleted)",
                               "rotation:    your sender key after \(doc.rotateMessages) messages or \(DurationText.format(doc.rotateAfterSeconds))",
                               "post-quantum: " + (doc.postQuantum ? "yes, every member has an X-Wing key" : "no, on version 1 cards: \(SafeText.quotedList(doc.classicalMembers))")
                                   + (doc.requirePq ? " (required)" : ""),
                               "members:     \(h.summary.members)"].compactMap { $0 }.map { $0 + "\n" }.joined())
            }, member: { m in
                let doc = MemberDocument(m, room: roomName)
                if let old = m.oldKeyOf { oldKeys.append((m.id, old.contact, old.pending)) }
                if m.trust == .keyChanged, m.oldKeyOf == nil { unresolved.append((m.id, m.handle)) }
                if !m.looksLike.isEmpty {
                    lookalikeWarnings.append("member \(SafeText.quotedList([m.label])) (\(m.id.hex)) looks like "
                                             + m.looksLike.map { "\(SafeText.quotedList([$0.label])) (\($0.id.hex))" }.joined(separator: ", "))
                }
                if output.json {
                    output.stream((first ? "" : ",") + Output.encode(doc))
                } else {
                    output.stream("  \(doc.id)  \(doc.admin ? "admin " : "member")  \(doc.trust.padding(13))  \(doc.card)  \(m.label)"
                                      + (doc.replaceCommand.map { "  (old key; run '\($0)')" } ?? "")
                                      + (m.looksLike.isEmpty ? "" : "  LOOKS LIKE " + SafeText.quotedList(m.looksLike.map(\.label))) + "\n")
                }
                first = false
            })
            if output.json { output.stream(jsonTail + "\n") }
            for warning in lookalikeWarnings {
                output.warn(warning, hint: "compare ids before trusting a name; 'roomkey room report' shows who added whom")
            }
            for old in oldKeys {
                let command = ShellWord.command(["room", "replace"], [roomName, old.contact])
                if old.pending {
                    output.warn("member \(old.contact) (\(old.id)) is the old identity key of contact \(old.contact), whose key changed; nothing is sealed to the new key until you decide",
                                hint: "run '\(ShellWord.command(["verify"], [old.contact], options: ["--confirm", "DIGITS"]))' or '\(ShellWord.command(["contact", "accept"], [old.contact]))', then '\(command)'")
                } else {
                    output.warn("member \(old.contact) (\(old.id)) is the old identity key of contact \(old.contact), whose new key you accepted",
                                hint: "swap it for the new key with '\(command)'")
                }
            }
            for m in unresolved {
                output.warn("member \(m.handle) (\(m.id)) is a contact whose new identity key is neither verified nor accepted; no keys are sealed to the room until you decide",
                            hint: "run '\(ShellWord.command(["verify"], [m.handle], options: ["--confirm", "DIGITS"]))' or '\(ShellWord.command(["contact", "accept"], [m.handle]))'")
            }
        }
    }

    /// `roomkey room log ROOM`.
    struct Log: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "log", abstract: "Print a room's membership log: every commit with its author, time, operations and head.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let (r, commits) = try openKeyring().log(of: room)
            var roster: [IdentityID: String] = [:]
            let entries = commits.map { commit -> Entry in
                for op in commit.operations {
                    if case let .create(_, card) = op { roster[card.id] = card.handle }
                    if case let .add(card) = op { roster[card.id] = card.handle }
                }
                return Entry(commit, handles: roster)
            }
            // Text names everyone who was ever in the room apart; JSON has the ids.
            let labels = Dictionary(uniqueKeysWithValues: MemberNames.labels(roster.map { ($0.key, $0.value) }).map { ($0.key.hex, $0.value) })
            func name(_ id: String?, _ handle: String?) -> String { id.flatMap { labels[$0] } ?? handle ?? id ?? "" }
            output.result(LogDocument(roomId: r.id.hex, name: r.name, commits: entries)) {
                entries.flatMap { e in
                    ["epoch \(e.epoch)  \(CommandClock.iso8601(e.time))  by \(name(e.author, e.authorHandle))  head \(e.head)"]
                        + e.operations.map { "  \($0.op) \(name($0.id, $0.handle))" }
                }
            }
        }

        struct LogDocument: Encodable { let roomId: String, name: String, commits: [Entry] }

        struct Entry: Encodable {
            struct Op: Encodable { let op: String, id: String?, handle: String? }
            let epoch: UInt64, author: String, authorHandle: String?, time: UInt64, operations: [Op], head: String
            init(_ c: Commit, handles: [IdentityID: String]) {
                epoch = c.epoch
                author = c.author.hex
                authorHandle = handles[c.author]
                time = c.time
                head = Hex.encode(c.head)
                operations = c.operations.map { op in
                    let subject = op.subject ?? c.author
                    return Op(op: op.verb, id: subject.hex, handle: handles[subject])
                }
            }
        }
    }

    /// `roomkey room fingerprint ROOM`.
    struct Fingerprint: KeyringCommand {
        static let configuration = CommandConfiguration(
            commandName: "fingerprint",
            abstract: "Print the room fingerprint: 60 digits from room id, epoch and head; members at one epoch compare it out of band.",
            discussion: "With --confirm DIGITS (spaces ignored), records that you compared it at the current epoch; digits that do not match exit 2, and anything but 60 digits exits 64.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String
        @Option(name: .long, help: ArgumentHelp("The digits another member read to you.", valueName: "digits")) var confirm: String?

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let r = try confirm.map { try keyring.confirmFingerprint(of: room, digits: $0) } ?? keyring.room(room)
            let digits = r.state.fingerprint
            let confirmed = r.confirmedEpoch == r.state.epoch
            output.result(FingerprintDocument(roomId: r.id.hex, epoch: r.state.epoch, fingerprint: digits, confirmed: confirmed)) {
                ["room \(r.name) at epoch \(r.state.epoch):", RoomFingerprint.grouped(digits)]
                    + (confirm != nil ? ["confirmed: it matches"] : [])
            }
        }
    }
}

/// The JSON form of `room fingerprint`.
struct FingerprintDocument: Encodable {
    let roomId: String, epoch: UInt64, fingerprint: String, confirmed: Bool
}

/// The JSON form of `room show`, written around its members as they stream: one document with sorted keys, whose
/// `members` array falls between `head` and `name`.
struct RoomShowHead {
    struct Before: Encodable {
        let classicalMembers: [String], epoch: UInt64, fingerprint: String, fingerprintConfirmed: Bool, forked: Bool, head: String
        let left: Bool
    }
    struct After: Encodable {
        let name: String, postQuantum: Bool, requirePq: Bool, restored: Bool, retentionSeconds: UInt64, roomId: String, rotateAfterSeconds: UInt64
        let rotateMessages: UInt32
    }
    let before: Before, after: After

    init(_ h: RoomHeader) {
        before = Before(classicalMembers: h.summary.classical.map(\.name), epoch: h.epoch, fingerprint: h.fingerprint,
                        fingerprintConfirmed: h.fingerprintConfirmed, forked: h.forked, head: Hex.encode(h.head), left: h.left)
        after = After(name: h.name, postQuantum: h.summary.classicalCount == 0, requirePq: h.requirePQ, restored: h.restored, retentionSeconds: h.retentionSeconds,
                      roomId: h.id.hex, rotateAfterSeconds: h.rotateAfterSeconds, rotateMessages: h.rotateMessages)
    }

    /// The document up to and including the opening of `members`.
    var jsonBeforeMembers: String { String(Output.encode(before).dropLast()) + ",\"members\":[" }
    /// The document from the closing of `members` on.
    var jsonAfterMembers: String { "]," + Output.encode(after).dropFirst() }

    var name: String { after.name }
    var roomId: String { after.roomId }
    var epoch: UInt64 { before.epoch }
    var head: String { before.head }
    var fingerprint: String { before.fingerprint }
    var fingerprintConfirmed: Bool { before.fingerprintConfirmed }
    var forked: Bool { before.forked }
    var retentionSeconds: UInt64 { after.retentionSeconds }
    var rotateMessages: UInt32 { after.rotateMessages }
    var rotateAfterSeconds: UInt64 { after.rotateAfterSeconds }
    var postQuantum: Bool { after.postQuantum }
    var requirePq: Bool { after.requirePq }
    var classicalMembers: [String] { before.classicalMembers }
}

/// One member in the JSON form of `room show`.
struct MemberDocument: Encodable {
    let id: String, handle: String, admin: Bool, trust: String, card: String
    /// For an old identity key of a contact whose key changed: the contact's name and the command that swaps it.
    var oldKeyOf: String? = nil
    var replaceCommand: String? = nil
    /// The ids of other members (or you) whose different handle looks the same as this member's; absent when none.
    var looksLike: [String]? = nil

    init(_ m: MemberListing, room: String) {
        id = m.id.hex
        handle = m.handle
        admin = m.admin
        trust = m.oldKeyOf != nil && m.trust == .notContact ? "old-key" : m.trust.rawValue
        card = m.postQuantum ? "v2" : "v1"
        oldKeyOf = m.oldKeyOf?.contact
        replaceCommand = m.oldKeyOf.map { ShellWord.command(["room", "replace"], [room, $0.contact]) }
        looksLike = m.looksLike.isEmpty ? nil : m.looksLike.map(\.id.hex)
    }
}
