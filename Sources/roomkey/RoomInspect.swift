import ArgumentParser
import Foundation
import RoomKey
import RoomKeyCore

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room list`.
    struct List: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "List rooms: id, name, epoch, members, your role.")

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let me = try keyring.identityCard().id
            let rooms = try keyring.rooms()
            let classical = try keyring.classicalMembers(rooms: rooms)
            let docs = try rooms.map { room in
                RoomSummary(room, me: me, trust: try keyring.memberTrust(of: room.id.hex).1, classical: classical[room.id] ?? [])
            }
            output.result(["rooms": docs]) {
                // A table with a header, as `contact list` prints, even when there is no room yet.
                let width = max(4, docs.map(\.name.count).max() ?? 0)
                return ["\("NAME".padding(width))  ROOM ID                           EPOCH  MEMBERS  ROLE    NOTES"] + docs.map {
                    "\($0.name.padding(width))  \($0.roomId)  \(String($0.epoch).padding(5))  \(String($0.members).padding(7))  \($0.role.padding(6))"
                        + ($0.forked ? "  FORKED" : "")
                        + ($0.keyChanged > 0 ? "  \($0.keyChanged) KEY-CHANGED" : "") + ($0.unverified > 0 ? "  \($0.unverified) unverified" : "")
                        + ($0.postQuantum ? "  pq" : "  \($0.classicalMembers.count) on v1 cards: \($0.classicalMembers.joined(separator: ", "))")
                        + ($0.requirePq ? " (pq required)" : "")
                }
            }
        }

        struct RoomSummary: Encodable {
            let roomId: String, name: String, epoch: UInt64, members: Int, admin: Bool, member: Bool, forked: Bool
            let unverified: Int, keyChanged: Int
            let postQuantum: Bool, requirePq: Bool, classicalMembers: [String]
            init(_ r: StoredRoom, me: IdentityID, trust: [IdentityID: MemberTrust], classical: [ClassicalMember]) {
                postQuantum = classical.isEmpty
                requirePq = r.requirePQ
                classicalMembers = classical.map(\.name)
                unverified = trust.values.filter { $0 == .unverified || $0 == .notContact }.count
                keyChanged = trust.values.filter { $0 == .keyChanged }.count
                roomId = r.id.hex
                name = r.name
                epoch = r.state.epoch
                members = r.state.roster.count
                admin = r.state.roster[me]?.admin ?? false
                member = r.state.roster[me] != nil
                forked = r.forked
            }
            var role: String { admin ? "admin" : (member ? "member" : "left") }
        }
    }

    /// `roomkey room show ROOM`.
    struct Show: KeyringCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a room: id, epoch, head, fingerprint (and whether you confirmed it), members with role and trust, fork state.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let (r, trust) = try keyring.memberTrust(of: room)
            let oldKeys = try keyring.oldKeyMembers(room: r.id.hex)
            let classical = try keyring.classicalMembers(rooms: [r])[r.id] ?? []
            let own = try keyring.identityCard()
            var people = r.state.roster.sorted.map { (id: $0.id, handle: $0.card.handle) }
            if !people.contains(where: { $0.id == own.id }) { people.append((own.id, own.handle)) }
            let lookalikes = MemberNames.lookalikes(people)
            var doc = RoomDocument(r, trust: trust, oldKeys: oldKeys, classical: classical)
            let labels = Dictionary(uniqueKeysWithValues: MemberNames.labels(people).map { ($0.key.hex, $0.value) })
            let lookalikeHexes = Dictionary(uniqueKeysWithValues: lookalikes.map { ($0.key.hex, $0.value.map(\.hex)) })
            for i in doc.members.indices { doc.members[i].looksLike = lookalikeHexes[doc.members[i].id] }
            output.result(doc) {
                ["room:        \(doc.name)", "id:          \(doc.roomId)", "epoch:       \(doc.epoch)", "head:        \(doc.head)",
                 "fingerprint: \(RoomFingerprint.grouped(doc.fingerprint)) (\(doc.fingerprintConfirmed ? "confirmed" : "not confirmed") at this epoch)",
                 "forked:      \(doc.forked ? "YES (\(r.forkHeads.joined(separator: " vs ")))" : "no")",
                 "retention:   \(DurationText.format(doc.retentionSeconds)) (superseded sender keys, then deleted)",
                 "rotation:    your sender key after \(doc.rotateMessages) messages or \(DurationText.format(doc.rotateAfterSeconds))",
                 "post-quantum: " + (doc.postQuantum ? "yes, every member has an X-Wing key" : "no, on version 1 cards: \(doc.classicalMembers.joined(separator: ", "))")
                    + (doc.requirePq ? " (required)" : ""),
                 "members:     \(doc.members.count)"]
                    + doc.members.map {
                        "  \($0.id)  \($0.admin ? "admin " : "member")  \($0.trust.padding(13))  \($0.card)  \(labels[$0.id] ?? $0.handle)"
                            + ($0.replaceCommand.map { "  (old key; run '\($0)')" } ?? "")
                            + ($0.looksLike.map { "  LOOKS LIKE " + $0.map { labels[$0] ?? $0 }.joined(separator: ", ") } ?? "")
                    }
            }
            for m in doc.members { if let alike = m.looksLike {
                output.warn("member \(labels[m.id] ?? m.handle) (\(m.id)) looks like " + alike.map { "\(labels[$0] ?? $0) (\($0))" }.joined(separator: ", "),
                            hint: "compare ids before trusting a name; 'roomkey room report' shows who added whom")
            } }
            for old in oldKeys {
                let command = "roomkey room replace \(r.name) \(old.contact)"
                if old.pending {
                    output.warn("member \(old.contact) (\(old.oldID)) is the old identity key of contact \(old.contact), whose key changed; nothing is sealed to the new key until you decide",
                                hint: "run 'roomkey verify \(old.contact) --confirm DIGITS' or 'roomkey contact accept \(old.contact)', then '\(command)'")
                } else {
                    output.warn("member \(old.contact) (\(old.oldID)) is the old identity key of contact \(old.contact), whose new key you accepted",
                                hint: "swap it for the new key with '\(command)'")
                }
            }
            let covered = Set(oldKeys.map(\.oldID.hex))
            for m in doc.members where m.trust == MemberTrust.keyChanged.rawValue && !covered.contains(m.id) {
                output.warn("member \(m.handle) (\(m.id)) is a contact whose new identity key is neither verified nor accepted; no keys are sealed to the room until you decide",
                            hint: "run 'roomkey verify \(m.handle) --confirm DIGITS' or 'roomkey contact accept \(m.handle)'")
            }
        }
    }

    /// `roomkey room log ROOM`.
    struct Log: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "Print a room's membership log: every commit with its author, time, operations and head.")

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
            abstract: "Print the room fingerprint: 60 digits from room id, epoch and head; members at one epoch compare it out of band.",
            discussion: "With --confirm DIGITS (spaces ignored), records that you compared it at the current epoch; digits that do not match exit 2.")

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

/// The JSON form of `room show`.
struct RoomDocument: Encodable {
    struct MemberDocument: Encodable {
        let id: String, handle: String, admin: Bool, trust: String, card: String
        /// For an old identity key of a contact whose key changed: the contact's name and the command that swaps it.
        var oldKeyOf: String? = nil
        var replaceCommand: String? = nil
        /// The ids of other members (or you) whose different handle looks the same as this member's; absent when none.
        var looksLike: [String]? = nil
    }
    let roomId: String, name: String, epoch: UInt64, head: String
    var members: [MemberDocument]
    let forked: Bool, fingerprint: String
    let fingerprintConfirmed: Bool
    let retentionSeconds: UInt64, rotateMessages: UInt32, rotateAfterSeconds: UInt64
    let postQuantum: Bool, requirePq: Bool, classicalMembers: [String]

    init(_ r: StoredRoom, trust: [IdentityID: MemberTrust], oldKeys: [Keyring.OldKeyMember] = [], classical: [ClassicalMember] = []) {
        let old = Dictionary(oldKeys.map { ($0.oldID, $0.contact) }, uniquingKeysWith: { a, _ in a })
        postQuantum = classical.isEmpty
        requirePq = r.requirePQ
        classicalMembers = classical.map(\.name)
        let v1 = Set(classical.map(\.id))
        roomId = r.id.hex
        name = r.name
        epoch = r.state.epoch
        head = Hex.encode(r.state.head)
        members = r.state.roster.sorted.map {
            MemberDocument(id: $0.id.hex, handle: $0.card.handle, admin: $0.admin, trust: old[$0.id] != nil && trust[$0.id] == .notContact ? "old-key" : (trust[$0.id] ?? .notContact).rawValue,
                           card: v1.contains($0.id) ? "v1" : "v2",
                           oldKeyOf: old[$0.id], replaceCommand: old[$0.id].map { "roomkey room replace \(r.name) \($0)" })
        }
        forked = r.forked
        fingerprint = r.state.fingerprint
        fingerprintConfirmed = r.confirmedEpoch == r.state.epoch
        retentionSeconds = r.retentionSeconds
        rotateMessages = r.rotateMessages
        rotateAfterSeconds = r.rotateAfterSeconds
    }
}
