import Foundation
import Testing
@testable import RoomKey
@testable import RoomKeyCore

/// One identity, one name (PROTOCOL §2.6). A hostile review: a member's card under another member's handle, or given
/// `--as` that member's name, was filed as that member's key change; once accepted, `room promote team bob` promoted the
/// card's owner and `room replace team bob` removed the real bob, each saying it acted on bob.
@Suite struct ContactNameHijackCLITests {
    /// alice's room "team" of bob and carol, and mallory, a member whose card carries the handle "bob" (added as
    /// "mallory"); returns mallory's card file.
    static func world() throws -> (RoomWorld, String) {
        let w = try RoomWorld()
        #expect(try w.s.roomkey("mallory", ["init", "--name", "bob", "--no-passphrase", "-q"]).code == 0)
        let card = w.s.path("mallory.card")
        #expect(try w.s.roomkey("mallory", ["id", "export", "-o", card]).code == 0)
        #expect(try w.rk("alice", ["contact", "add", card, "--as", "mallory"]).code == 0)
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        #expect(try w.rk("alice", ["room", "add", "team", "mallory", "--allow-same-handle"]).code == 0)
        return (w, card)
    }

    @Test func aMembersCardUnderAnotherMembersHandleIsAlreadyKnown() throws {
        let (w, card) = try Self.world()
        let bob = try w.keyring("bob").identityCard().id
        let mallory = try w.s.roomkey("mallory", ["id", "--json"]).json()["id"] as? String
        let before = try w.snapshot("alice")

        // The same card again, now under its handle "bob" (no --as): already known as mallory, bob untouched.
        let again = try w.rk("alice", ["contact", "add", card, "--json"])
        #expect(again.code == 0, "\(again)")
        let result = try #require((try again.json()["results"] as? [[String: Any]])?.first)
        #expect(result["status"] as? String == "already-known", "\(again)")
        #expect(try w.snapshot("alice") == before)
        let shown = try w.rk("alice", ["contact", "show", "bob", "--json"]).json()
        #expect(shown["id"] as? String == bob.hex && shown["key_changed"] as? Bool == false, "\(shown)")

        // carol's card given --as bob: already known as carol.
        let carolCard = try w.s.roomkey("carol", ["id", "export"]).stdout
        let asBob = try w.rk("alice", ["contact", "add", "-", "--as", "bob", "--json"], stdin: Data(carolCard.utf8))
        #expect(asBob.code == 0, "\(asBob)")
        let asBobResult = try #require((try asBob.json()["results"] as? [[String: Any]])?.first)
        #expect(asBobResult["status"] as? String == "already-known", "\(asBob)")
        #expect(try w.snapshot("alice") == before)

        // So bob's name still means bob: a promotion of bob promotes bob, not mallory.
        #expect(try w.rk("alice", ["room", "promote", "team", "bob"]).code == 0)
        let members = try #require(try w.show("alice")["members"] as? [[String: Any]])
        let admins = Set(members.filter { $0["admin"] as? Bool == true }.compactMap { $0["id"] as? String })
        #expect(admins.contains(bob.hex), "\(members)")
        #expect(!admins.contains(mallory ?? ""), "\(members)")
    }

    /// A contact's replaced key is still that contact's: under another contact's name it is already known, not that
    /// contact's key change (a review: carol's old key under the handle "bob" became bob's, and `room replace team bob`
    /// then removed the real bob).
    @Test func aContactsFormerKeyUnderAnotherNameIsAlreadyKnown() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        let bob = try w.keyring("bob").identityCard().id
        let carol = try w.keyring("carol").identity()
        #expect(try w.s.roomkey("carol2", ["init", "--name", "carol", "--no-passphrase", "-q"]).code == 0)
        let newCarol = try w.s.roomkey("carol2", ["id", "export"]).stdout
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(newCarol.utf8)).code == 0)
        #expect(try w.rk("alice", ["contact", "accept", "carol"]).code == 0)
        let before = try w.snapshot("alice")

        let oldAsBob = try IdentityCard(handle: "bob", signer: carol.signing, sealingKey: carol.card.sealingKey,
                                        xwingKey: carol.card.xwingKey, created: carol.card.created + 60)
        for extra in [[], ["--as", "zed"]] {
            let added = try w.rk("alice", ["contact", "add", "-", "--json"] + extra, stdin: Data((oldAsBob.text + "\n").utf8))
            #expect(added.code == 0, "\(added)")
            let result = try #require((try added.json()["results"] as? [[String: Any]])?.first)
            #expect(result["status"] as? String == "already-known", "\(added)")
            #expect(try w.snapshot("alice") == before)
        }
        #expect(try w.rk("alice", ["contact", "show", "bob", "--json"]).json()["id"] as? String == bob.hex)
        let replace = try w.rk("alice", ["room", "replace", "team", "bob"])
        #expect(replace.code == 6, "bob's key never changed: \(replace)")
    }

    /// A contact removed while still a room member is no contact any more, but still not another contact's new key
    /// (a review: its card under the handle "bob" became bob's key change, and `room replace team bob` then removed the
    /// real bob and kept it). Under a handle other than its membership's, it is refused: status `room-member`.
    @Test func aRemovedContactStillInARoomIsNoOtherContactsNewKey() throws {
        let w = try RoomWorld()
        #expect(try w.rk("alice", ["room", "create", "team", "--member", "bob", "--member", "carol"]).code == 0)
        let bob = try w.keyring("bob").identityCard().id
        // zoe, in a room without bob as "zoe", then no contact: a card of that key with the handle "bob".
        #expect(try w.s.roomkey("zoe", ["init", "--name", "zoe", "--no-passphrase", "-q"]).code == 0)
        let zoeCard = try w.s.roomkey("zoe", ["id", "export"]).stdout
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data(zoeCard.utf8)).code == 0)
        #expect(try w.rk("alice", ["room", "create", "lab", "--member", "zoe"]).code == 0)
        #expect(try w.rk("alice", ["contact", "remove", "zoe"]).code == 0)
        let zoe = try w.keyring("zoe").identity()
        let zoeAsBob = try IdentityCard(handle: "bob", signer: zoe.signing, sealingKey: zoe.card.sealingKey,
                                        xwingKey: zoe.card.xwingKey, created: zoe.card.created + 60)
        let before = try w.snapshot("alice")
        let forged = try w.rk("alice", ["contact", "add", "-", "--json"], stdin: Data((zoeAsBob.text + "\n").utf8))
        #expect(forged.code == 0, "\(forged)")
        let result = try #require((try forged.json()["results"] as? [[String: Any]])?.first)
        #expect(result["status"] as? String == "room-member", "\(forged)")
        #expect(result["existing_name"] as? String == "zoe", "\(forged)")
        #expect(forged.stderr.contains("is a member of your rooms as \"zoe\""), "\(forged)")
        #expect(try w.snapshot("alice") == before)
        #expect(try w.rk("alice", ["contact", "show", "bob", "--json"]).json()["id"] as? String == bob.hex)
        let replace = try w.rk("alice", ["room", "replace", "team", "bob"])
        #expect(replace.code == 6, "bob's key never changed: \(replace)")
    }

    /// A contact's name means that contact: with the contact out of the room, a member whose card carries the name as
    /// its handle is not taken instead (a review: `room promote lab bob` promoted mallory, whose card said "bob").
    @Test func aContactsNameNeverFallsBackToAnotherMembersHandle() throws {
        let (w, _) = try Self.world()
        #expect(try w.rk("alice", ["room", "create", "lab", "--member", "mallory", "--allow-same-handle"]).code == 0)
        let before = try w.snapshot("alice")
        for verb in ["promote", "remove"] {
            let r = try w.rk("alice", ["room", verb, "lab", "bob"])
            #expect(r.code == 6, "\(verb): \(r)")
            #expect(r.stderr.contains("\"bob\" is not a member of room \"lab\""), "\(r)")
        }
        #expect(try w.snapshot("alice") == before)
        #expect(try w.rk("alice", ["room", "promote", "lab", "mallory"]).code == 0)
    }

    /// A newer card of a verified contact's key with another handle keeps the contact but not the verified mark: the
    /// handle is the safety number's stable id, so the number the user compared is not the new card's.
    @Test func aNewHandleDropsTheVerifiedMark() throws {
        let w = try RoomWorld()
        let number = try w.rk("alice", ["verify", "bob", "--json"]).json()["safety_number"] as? String
        #expect(try w.rk("alice", ["verify", "bob", "--confirm", try #require(number)]).code == 0)
        let bob = try w.keyring("bob").identity()
        let renamed = try IdentityCard(handle: "robert", signer: bob.signing, sealingKey: bob.card.sealingKey,
                                       xwingKey: bob.card.xwingKey, created: bob.card.created + 60)
        let added = try w.rk("alice", ["contact", "add", "-", "--as", "bob", "--json"], stdin: Data((renamed.text + "\n").utf8))
        #expect(added.code == 0, "\(added)")
        let result = try #require((try added.json()["results"] as? [[String: Any]])?.first)
        #expect(result["status"] as? String == "updated", "\(added)")
        let after = try w.rk("alice", ["verify", "bob", "--json"]).json()
        #expect(after["verified"] as? Bool == false, "\(after)")
        #expect(after["safety_number"] as? String != number, "\(after)")

        // The same handle in a newer card keeps it.
        let carolNumber = try w.rk("alice", ["verify", "carol", "--json"]).json()["safety_number"] as? String
        #expect(try w.rk("alice", ["verify", "carol", "--confirm", try #require(carolNumber)]).code == 0)
        let carol = try w.keyring("carol").identity()
        let newer = try IdentityCard(handle: carol.card.handle, signer: carol.signing, sealingKey: carol.card.sealingKey,
                                     xwingKey: carol.card.xwingKey, created: carol.card.created + 60)
        #expect(try w.rk("alice", ["contact", "add", "-"], stdin: Data((newer.text + "\n").utf8)).code == 0)
        #expect(try w.rk("alice", ["verify", "carol", "--json"]).json()["verified"] as? Bool == true)
    }
}
