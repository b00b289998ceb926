import Foundation
import Testing

/// Keyrings made by roomkey 0.1.0 (`fixtures/keyring-v1`, made by its `make.sh`; see its README): this version must
/// open them, report what they reported when they were made (`expected.json`), decrypt what was left unread, and
/// keep working with them: rotate, add a new member, and exchange new messages.
@Suite struct KeyringMigrationTests {
    /// `fixtures/keyring-v1` at the package root, three levels up from this file.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // EndToEndTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // package root
        .appendingPathComponent("fixtures/keyring-v1")

    static let people = ["alice", "bob", "carol"]

    /// The parsed `expected.json`.
    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The expected facts of one keyring (`keyrings.WHO` in `expected.json`).
    static func keyring(_ who: String) throws -> [String: Any] {
        let keyrings = try #require(try expected()["keyrings"] as? [String: Any])
        return try #require(keyrings[who] as? [String: Any], "expected.json has no keyring \(who)")
    }

    @Test func identitiesAndContactsAreAsMade() throws {
        let w = try FixtureWorld()
        for who in Self.people {
            let facts = try Self.keyring(who)
            let id = try w.rk(who, ["id", "--json"])
            #expect(id.code == 0, "\(who): \(id)")
            expectSubset(try #require(facts["id"]), try id.json(), "\(who) id")
            let contacts = try w.rk(who, ["contact", "list", "--json"])
            #expect(contacts.code == 0, "\(who): \(contacts)")
            expectSubset(try #require(facts["contacts"]), try contacts.json()["contacts"] ?? NSNull(), "\(who) contacts")
            let audit = try w.rk(who, ["audit", "--verify", "--json"])
            #expect(audit.code == 0, "\(who): \(audit)")
            #expect(try audit.json()["intact"] as? Bool == true, "\(who): \(audit)")
        }
        // alice's keyring is still protected: without its passphrase, or with another one, it stays locked.
        let locked = try w.rk("alice", ["id"], passphrase: .none)
        #expect(locked.code == 3, "\(locked)")
        let wrong = w.s.path("wrong.passphrase")
        try Data("correct horse battery staple\n".utf8).write(to: URL(fileURLWithPath: wrong))
        let refused = try w.rk("alice", ["id"], passphrase: .file(wrong))
        #expect(refused.code == 3, "\(refused)")
    }

    @Test func roomIsAsEachMemberSawIt() throws {
        let w = try FixtureWorld()
        let room = try #require(try Self.expected()["room"] as? [String: Any])
        #expect(room["name"] as? String == "ops")
        for who in Self.people {
            let facts = try Self.keyring(who)
            for (command, key) in [("show", "room_show"), ("fingerprint", "room_fingerprint"), ("log", "room_log")] {
                let r = try w.rk(who, ["room", command, "ops", "--json"])
                #expect(r.code == 0, "\(who) room \(command): \(r)")
                expectSubset(try #require(facts[key]), try r.json(), "\(who) room \(command)")
                #expect(try r.json()["room_id"] as? String == room["room_id"] as? String, "\(who) room \(command)")
            }
        }
        // The shape the fixtures were made with, stated here too so an edited expected.json cannot hide it.
        let alice = try w.rk("alice", ["room", "show", "ops", "--json"]).json()
        let carol = try w.rk("carol", ["room", "show", "ops", "--json"]).json()
        let bob = try w.rk("bob", ["room", "show", "ops", "--json"]).json()
        #expect(alice["epoch"] as? Int == 2 && carol["epoch"] as? Int == 2 && bob["epoch"] as? Int == 1)
        #expect(alice["head"] as? String == carol["head"] as? String)
        #expect(alice["fingerprint"] as? String == carol["fingerprint"] as? String)
        #expect(alice["fingerprint_confirmed"] as? Bool == true && carol["fingerprint_confirmed"] as? Bool == true)
        #expect(handles(alice) == ["alice", "carol"] && handles(carol) == ["alice", "carol"])
        #expect(handles(bob) == ["alice", "bob", "carol"])
    }

    @Test func savedMessagesDecryptAsExpected() throws {
        let w = try FixtureWorld()
        let messages = try #require(try Self.expected()["messages"] as? [[String: Any]])
        #expect(messages.count == 4)
        // Refusals first (they change nothing), then what decrypts, then what waits for a bundle.
        var decrypts: [(who: String, file: String, message: [String: Any])] = []
        var waits: [(who: String, file: String, message: [String: Any], facts: [String: Any])] = []
        for message in messages {
            let file = try #require(message["file"] as? String)
            let readers = try #require(message["decrypt"] as? [String: [String: Any]])
            for (who, facts) in readers.sorted(by: { $0.key < $1.key }) {
                let exit = try #require(facts["exit"] as? Int)
                switch exit {
                case 0: decrypts.append((who, file, message))
                case 5: waits.append((who, file, message, facts))
                default:
                    let r = try w.rk(who, ["decrypt", w.fixture(file), "--json"])
                    #expect(r.code == Int32(exit), "\(who) decrypt \(file): \(r)")
                }
            }
        }
        #expect(decrypts.map { "\($0.who) \($0.file)" } == ["carol messages/alice-2.msg"])
        #expect(waits.map { "\($0.who) \($0.file)" } == ["carol messages/alice-3.txt"])
        for (who, file, message) in decrypts {
            try w.expectDecrypts(who, w.fixture(file), message)
        }
        for (who, file, message, facts) in waits {
            let r = try w.rk(who, ["decrypt", w.fixture(file), "--json"])
            #expect(r.code == 5, "\(who) decrypt \(file): \(r)")
            let bundle = try #require(facts["after_receiving"] as? String)
            let received = try w.rk(who, ["receive", w.fixture(bundle), "--json"])
            #expect(received.code == 0, "\(who) receive \(bundle): \(received)")
            let results = try #require(try received.json()["results"] as? [[String: Any]])
            #expect(results.map { $0["status"] as? String } == ["applied"], "\(received)")
            #expect(facts["exit_after"] as? Int == 0)
            try w.expectDecrypts(who, w.fixture(file), message)
        }
        // What was just decrypted is now a replay.
        let replay = try w.rk("carol", ["decrypt", w.fixture("messages/alice-2.msg")])
        #expect(replay.code == 6, "\(replay)")
    }

    /// Rotation, a new member, and new messages on the old keyrings: at today's clock, and 400 days later (when
    /// alice's sender key is long past its rotation age and the superseded epochs are past retention).
    @Test(arguments: [0, 400]) func keyringsKeepWorking(daysLater: Int) throws {
        let w = try FixtureWorld(now: daysLater == 0 ? nil : UInt64(Date().timeIntervalSince1970) + UInt64(daysLater) * 86_400)
        let facts = try Self.keyring("alice")
        let before = try #require(facts["room_show"] as? [String: Any])

        // carol catches up with alice's rotation; alice writes (rotating first if her key is old) and carol reads.
        #expect(try w.rk("carol", ["receive", w.fixture("bundles/alice-rotate.roomkey")]).code == 0)
        let m1 = try w.encrypt("alice", "alice, still here")
        try w.exchange(["carol"])
        try w.expectDecrypts("carol", m1, ["sender": "alice", "plaintext": "alice, still here"])

        // An explicit rotation, received by carol, then a message under the new generation.
        let rotate = try w.rk("alice", ["room", "rotate", "ops", "--json"])
        #expect(rotate.code == 0, "\(rotate)")
        #expect(try rotate.json()["epoch"] as? Int == 2)
        try w.exchange(["carol"])
        let m2 = try w.encrypt("alice", "after a rotation")
        try w.exchange(["carol"])
        try w.expectDecrypts("carol", m2, ["sender": "alice", "plaintext": "after a rotation"])
        let m3 = try w.encrypt("carol", "carol, still here")  // carol's key is old too: she may rotate first
        try w.exchange(["alice"])
        try w.expectDecrypts("alice", m3, ["sender": "carol", "plaintext": "carol, still here"])

        // dave, made now, joins: epoch 3 on top of the old log, seen alike by alice, carol and dave.
        let dave = try w.s.person("dave")
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(dave.utf8)).code == 0)
        let aliceCard = try #require((try Self.keyring("alice")["id"] as? [String: Any])?["card"] as? String)
        #expect(try w.rk("dave", ["contact", "add", "-"], stdin: Data(aliceCard.utf8)).code == 0)
        let add = try w.rk("alice", ["room", "add", "ops", "dave", "--json"])
        #expect(add.code == 0, "\(add)")
        #expect(try add.json()["epoch"] as? Int == 3)
        try w.exchange(["carol", "dave", "alice"])
        let views = try ["alice", "carol", "dave"].map { try w.rk($0, ["room", "show", "ops", "--json"]).json() }
        for view in views {
            #expect(view["room_id"] as? String == before["room_id"] as? String)
            #expect(view["epoch"] as? Int == 3)
            #expect(view["head"] as? String == views[0]["head"] as? String)
            #expect(view["fingerprint"] as? String == views[0]["fingerprint"] as? String)
            #expect(handles(view) == ["alice", "carol", "dave"])
        }
        #expect(views[0]["fingerprint"] as? String != before["fingerprint"] as? String)
        // The old log is kept under the new commit.
        let log = try #require(try w.rk("alice", ["room", "log", "ops", "--json"]).json()["commits"] as? [[String: Any]])
        let oldLog = try #require((facts["room_log"] as? [String: Any])?["commits"] as? [[String: Any]])
        #expect(log.count == 4)
        #expect(log.prefix(3).map { $0["head"] as? String } == oldLog.map { $0["head"] as? String })
        #expect(log.last?["head"] as? String == views[0]["head"] as? String)

        let m4 = try w.encrypt("alice", "welcome, dave")
        try w.exchange(["carol", "dave"])
        try w.expectDecrypts("carol", m4, ["sender": "alice", "plaintext": "welcome, dave"])
        try w.expectDecrypts("dave", m4, ["sender": "alice", "plaintext": "welcome, dave"])
        let m5 = try w.encrypt("carol", "hi dave, carol here")
        try w.exchange(["alice", "dave"])
        try w.expectDecrypts("alice", m5, ["sender": "carol", "plaintext": "hi dave, carol here"])
        try w.expectDecrypts("dave", m5, ["sender": "carol", "plaintext": "hi dave, carol here"])
        // bob, removed at epoch 2, reads none of it, whatever he receives.
        #expect(try w.rk("bob", ["receive", w.outbox]).code == 0)
        for message in [m1, m4, m5] {
            let r = try w.rk("bob", ["decrypt", message])
            #expect(r.code == 4, "bob decrypt: \(r)")
        }
        for who in ["alice", "carol", "dave"] {
            #expect(try w.rk(who, ["audit", "--verify", "--json"]).json()["intact"] as? Bool == true, "\(who)")
        }
    }
}

/// The member handles of a `room show` document, sorted.
private func handles(_ show: [String: Any]) -> [String] {
    ((show["members"] as? [[String: Any]]) ?? []).compactMap { $0["handle"] as? String }.sorted()
}

/// Expects every field of `expected` in `actual` with the same value (recursively; a newer version may add fields).
/// Arrays must match element by element; arrays of objects with an `id` are compared sorted by it.
private func expectSubset(_ expected: Any, _ actual: Any, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var problems: [String] = []
    compare(expected, actual, what, &problems)
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))", sourceLocation: sourceLocation)
}

private func compare(_ expected: Any, _ actual: Any, _ path: String, _ problems: inout [String]) {
    switch (expected, actual) {
    case let (e as [String: Any], a as [String: Any]):
        for (key, value) in e.sorted(by: { $0.key < $1.key }) {
            guard let other = a[key] else { problems.append("\(path).\(key): missing"); continue }
            compare(value, other, "\(path).\(key)", &problems)
        }
    case let (e as [Any], a as [Any]):
        guard e.count == a.count else { problems.append("\(path): \(a.count) elements, expected \(e.count)"); return }
        for (i, (x, y)) in zip(sortedByID(e), sortedByID(a)).enumerated() { compare(x, y, "\(path)[\(i)]", &problems) }
    case (is NSNull, is NSNull):
        break
    default:
        let same = (expected as? NSObject).map { e in (actual as? NSObject).map { e.isEqual($0) } ?? false } ?? false
        if !same {
            problems.append("\(path): \(actual), expected \(expected)")
        }
    }
}

private func sortedByID(_ array: [Any]) -> [Any] {
    guard let objects = array as? [[String: Any]], objects.allSatisfy({ $0["id"] is String }) else { return array }
    return objects.sorted { ($0["id"] as? String ?? "") < ($1["id"] as? String ?? "") }
}

/// Copies of the fixture keyrings in a sandbox: `alice`, `bob` and `carol` (plus anyone made with `s.person`), one
/// outbox folder, alice's passphrase file, and optionally a fixed clock.
private final class FixtureWorld {
    let s: Sandbox
    let outbox: String
    let alicePassphrase: String
    let now: UInt64?

    init(now: UInt64? = nil) throws {
        s = try Sandbox()
        self.now = now
        outbox = s.path("outbox")
        let fm = FileManager.default
        try fm.createDirectory(atPath: outbox, withIntermediateDirectories: true)
        for who in KeyringMigrationTests.people {
            let target = s.keyring(who)
            let dir = (target as NSString).deletingLastPathComponent
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.copyItem(atPath: KeyringMigrationTests.folder.appendingPathComponent("\(who).sqlite").path, toPath: target)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        }
        alicePassphrase = s.path("alice.passphrase")
        try fm.copyItem(atPath: KeyringMigrationTests.folder.appendingPathComponent("alice.passphrase").path, toPath: alicePassphrase)
    }

    /// The path of a fixture file (messages and bundles are read in place: roomkey never writes to them).
    func fixture(_ relativePath: String) -> String { KeyringMigrationTests.folder.appendingPathComponent(relativePath).path }

    /// Which passphrase file a run gets.
    enum Passphrase { case alices, none, file(String) }

    /// Runs roomkey as `who` with the outbox, the clock, and (by default, for alice) alice's passphrase file.
    func rk(_ who: String, _ args: [String], stdin: Data? = nil, passphrase: Passphrase = .alices) throws -> Run {
        var env = ["ROOMKEY_OUTBOX": outbox]
        if let now { env["ROOMKEY_TEST_NOW"] = String(now) }
        switch passphrase {
        case .alices: if who == "alice" { env["ROOMKEY_PASSPHRASE_FILE"] = alicePassphrase }
        case .file(let path): env["ROOMKEY_PASSPHRASE_FILE"] = path
        case .none: break
        }
        return try s.roomkey(who, args, stdin: stdin, env: env)
    }

    /// Everyone in `who` receives the outbox, in rounds, until no new bundle appears.
    func exchange(_ who: [String]) throws {
        for _ in 0..<6 {
            let before = try FileManager.default.contentsOfDirectory(atPath: outbox).count
            for p in who {
                let r = try rk(p, ["receive", outbox])
                #expect(r.code == 0, "receive as \(p): \(r)")
            }
            if try FileManager.default.contentsOfDirectory(atPath: outbox).count == before { return }
        }
        Issue.record("bundles keep coming")
    }

    /// `who` encrypts `text` for ops into a new file; returns its path.
    func encrypt(_ who: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = s.path("msg-\(who)-\(UUID().uuidString).msg")
        let r = try rk(who, ["encrypt", "ops", "-o", path, "--json"], stdin: Data(text.utf8))
        #expect(r.code == 0, "encrypt as \(who): \(r)", sourceLocation: sourceLocation)
        return path
    }

    /// `who` decrypts `path`, which must give `message["plaintext"]` from `message["sender"]`.
    func expectDecrypts(_ who: String, _ path: String, _ message: [String: Any],
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try rk(who, ["decrypt", path, "--json"])
        #expect(r.code == 0, "\(who) decrypt \(path): \(r)", sourceLocation: sourceLocation)
        guard r.code == 0 else { return }
        let doc = try r.json()
        let plain = (doc["plaintext_base64"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(plain == message["plaintext"] as? String, "\(who) decrypt \(path)", sourceLocation: sourceLocation)
        #expect(doc["sender_handle"] as? String == message["sender"] as? String, sourceLocation: sourceLocation)
        if let epoch = message["epoch"] as? Int { #expect(doc["epoch"] as? Int == epoch, sourceLocation: sourceLocation) }
    }
}
