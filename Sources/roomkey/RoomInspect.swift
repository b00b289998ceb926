import ArgumentParser
import Foundation
import RoomKey

extension RoomKeyCommand.RoomCommand {
    /// `roomkey room list`.
    struct List: KeyringCommand {
        static let configuration = CommandConfiguration(abstract: "List rooms: id, name, epoch, members, your role.")

        @OptionGroup var global: GlobalOptions

        func execute(_ output: Output) throws {
            let keyring = try openKeyring()
            let me = try keyring.identityCard().id
            let docs = try keyring.rooms().map { RoomSummary($0, me: me) }
            output.result(["rooms": docs]) {
                docs.map { "\($0.roomId)  epoch \($0.epoch)  \($0.members) members  \($0.role)\($0.forked ? "  FORKED" : "")  \($0.name)" }
            }
        }

        struct RoomSummary: Encodable {
            let roomId: String, name: String, epoch: UInt64, members: Int, admin: Bool, member: Bool, forked: Bool
            init(_ r: StoredRoom, me: IdentityID) {
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
        static let configuration = CommandConfiguration(abstract: "Show a room: id, epoch, head, members and their roles, fork state.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let r = try openKeyring().room(room)
            let doc = RoomDocument(r)
            output.result(doc) {
                ["room:        \(doc.name)", "id:          \(doc.roomId)", "epoch:       \(doc.epoch)", "head:        \(doc.head)",
                 "fingerprint: \(RoomFingerprint.grouped(doc.fingerprint))", "forked:      \(doc.forked ? "YES (\(r.forkHeads.joined(separator: " vs ")))" : "no")",
                 "members:     \(doc.members.count)"]
                    + doc.members.map { "  \($0.id)  \($0.admin ? "admin " : "member")  \($0.handle)" }
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
            output.result(LogDocument(roomId: r.id.hex, name: r.name, commits: entries)) {
                entries.flatMap { e in
                    ["epoch \(e.epoch)  \(CommandClock.iso8601(e.time))  by \(e.authorHandle ?? e.author)  head \(e.head)"]
                        + e.operations.map { "  \($0.op) \($0.handle ?? $0.id ?? "")" }
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
            abstract: "Print the room fingerprint: 60 digits from room id, epoch and head; members at one epoch compare it out of band.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The room's name or id.", valueName: "room")) var room: String

        func execute(_ output: Output) throws {
            let r = try openKeyring().room(room)
            let digits = r.state.fingerprint
            output.result(FingerprintDocument(roomId: r.id.hex, epoch: r.state.epoch, fingerprint: digits)) {
                ["room \(r.name) at epoch \(r.state.epoch):", RoomFingerprint.grouped(digits)]
            }
        }
    }
}

/// The JSON form of `room fingerprint`.
struct FingerprintDocument: Encodable {
    let roomId: String, epoch: UInt64, fingerprint: String
}

/// The JSON form of `room show`.
struct RoomDocument: Encodable {
    struct MemberDocument: Encodable { let id: String, handle: String, admin: Bool }
    let roomId: String, name: String, epoch: UInt64, head: String, members: [MemberDocument], forked: Bool, fingerprint: String

    init(_ r: StoredRoom) {
        roomId = r.id.hex
        name = r.name
        epoch = r.state.epoch
        head = Hex.encode(r.state.head)
        members = r.state.roster.sorted.map { MemberDocument(id: $0.id.hex, handle: $0.card.handle, admin: $0.admin) }
        forked = r.forked
        fingerprint = r.state.fingerprint
    }
}
