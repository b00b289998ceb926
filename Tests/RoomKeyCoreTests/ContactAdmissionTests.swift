import Testing
@testable import RoomKeyCore

/// `ContactAdmission.decide`, one row per case of PROTOCOL §2.6: what a verified card does under a name, given the card
/// stored under that name and the contact holding the card's identity.
struct ContactAdmissionTests {
    /// Three identities: bob's (v1 and v2 cards, an older one and one under another handle), mallory's and carol's.
    struct People: Sendable {
        let bob, bobOlder, bobV2, bobRenamed, mallory, malloryAsBob, malloryV2AsBob: IdentityCard
    }

    static let people: People = {
        func card(_ signer: borrowing SigningKeyPair, _ sealing: SealingPublicKey, handle: String, created: UInt64,
                  xwing: XWingPublicKey? = nil) -> IdentityCard {
            // Fresh keys always make a valid card; a failure here is a broken test set-up, not an input.
            guard let card = try? IdentityCard(handle: handle, signer: signer, sealingKey: sealing, xwingKey: xwing,
                                               created: created) else { fatalError("test card") }
            return card
        }
        guard let bob = try? SigningKeyPair.generate(), let mallory = try? SigningKeyPair.generate(),
              let bobBox = try? SealingKeyPair.generate().publicKey, let malBox = try? SealingKeyPair.generate().publicKey,
              let xwing = try? XWingKeyPair.generate().publicKey else { fatalError("test keys") }
        return People(bob: card(bob, bobBox, handle: "bob", created: 200),
                      bobOlder: card(bob, bobBox, handle: "bob", created: 100),
                      bobV2: card(bob, bobBox, handle: "bob", created: 200, xwing: xwing),
                      bobRenamed: card(bob, bobBox, handle: "robert", created: 300),
                      mallory: card(mallory, malBox, handle: "mallory", created: 200),
                      malloryAsBob: card(mallory, malBox, handle: "bob", created: 300),
                      malloryV2AsBob: card(mallory, malBox, handle: "bob", created: 300, xwing: xwing))
    }()

    typealias Holder = (name: String, card: IdentityCard)

    /// (case, card, name, stored under the name, holder of the identity, expected name, expected action)
    static let cases: [(String, @Sendable (People) -> (IdentityCard, String, IdentityCard?, Holder?, String, ContactAdmission.Action))] = [
        ("a new name and a new identity", { p in (p.bob, "bob", nil, nil, "bob", .add) }),
        ("the stored card again", { p in (p.bob, "bob", p.bob, ("bob", p.bob), "bob", .unchanged) }),
        ("an older card of the stored key", { p in (p.bobOlder, "bob", p.bob, ("bob", p.bob), "bob", .unchanged) }),
        ("a newer card of the stored key, same handle", { p in
            (p.bob, "bob", p.bobOlder, ("bob", p.bobOlder), "bob", .update(upgrade: false, keepsVerified: true)) }),
        ("a newer card of the stored key under another handle: the safety number changes", { p in
            (p.bobRenamed, "bob", p.bob, ("bob", p.bob), "bob", .update(upgrade: false, keepsVerified: false)) }),
        ("a version 2 card of the stored version 1 card", { p in
            (p.bobV2, "bob", p.bob, ("bob", p.bob), "bob", .update(upgrade: true, keepsVerified: true)) }),
        ("a version 1 card never replaces a version 2 one", { p in (p.bob, "bob", p.bobV2, ("bob", p.bobV2), "bob", .unchanged) }),
        ("another identity under the name, not a contact yet: a key change", { p in
            (p.malloryAsBob, "bob", p.bob, nil, "bob", .keyChange(previous: p.bob.id)) }),
        // The review's finding: a contact's card under another contact's name re-pointed that name.
        ("a contact's card under another contact's handle is already known", { p in
            (p.malloryAsBob, "bob", p.bob, ("mallory", p.mallory), "bob", .alreadyKnown(as: "mallory")) }),
        ("a contact's own card given --as another contact's name is already known", { p in
            (p.mallory, "bob", p.bob, ("mallory", p.mallory), "bob", .alreadyKnown(as: "mallory")) }),
        ("a version 2 card of a contact's version 1 card under another contact's name upgrades the holder", { p in
            (p.malloryV2AsBob, "bob", p.bob, ("mallory", p.mallory), "mallory", .update(upgrade: true, keepsVerified: false)) }),
        ("a version 2 card of a version 1 contact under a free name upgrades the holder", { p in
            (p.bobV2, "robert", nil, ("bob", p.bob), "bob", .update(upgrade: true, keepsVerified: true)) }),
        ("a known identity under a free name is already known", { p in
            (p.bobRenamed, "robert", nil, ("bob", p.bob), "robert", .alreadyKnown(as: "bob")) }),
    ]

    /// A key in a contact's key history (`former`) is not another contact's new key; under its own name it is a key
    /// change again, as any re-added old key.
    @Test func aFormerKeyOfAContactIsAlreadyKnown() {
        let p = Self.people
        let other = ContactAdmission.decide(card: p.malloryAsBob, name: "bob", stored: p.bob, holder: nil, former: "carol")
        #expect(other == ContactAdmission(name: "bob", action: .alreadyKnown(as: "carol")))
        let free = ContactAdmission.decide(card: p.mallory, name: "zed", stored: nil, holder: nil, former: "carol")
        #expect(free == ContactAdmission(name: "zed", action: .alreadyKnown(as: "carol")))
        let own = ContactAdmission.decide(card: p.malloryAsBob, name: "carol", stored: p.bob, holder: nil, former: "carol")
        #expect(own == ContactAdmission(name: "carol", action: .keyChange(previous: p.bob.id)))
    }

    /// A room member who is no contact (`member`) is not the new key of a contact under a handle other than its card's;
    /// under its card's handle (another admin put the contact's new key in the room first, beside the old one or not) it
    /// is a key change, as before.
    @Test func aRoomMemberWhoIsNoContactIsNoOtherContactsNewKey() {
        let p = Self.people
        let rows: [(String, ContactAdmission.Membership?, String, ContactAdmission.Action)] = [
            ("no membership", nil, "bob", .keyChange(previous: p.bob.id)),
            ("a member under another handle", .init(handle: "mallory"), "bob", .roomMember(handle: "mallory")),
            ("a member under the card's handle", .init(handle: "bob"), "bob", .keyChange(previous: p.bob.id)),
        ]
        for (what, member, name, expected) in rows {
            let decision = ContactAdmission.decide(card: p.malloryAsBob, name: name, stored: p.bob, holder: nil, member: member)
            #expect(decision == ContactAdmission(name: name, action: expected), "\(what)")
        }
        // Under a free name, or when a contact holds the identity, the membership changes nothing.
        let member = ContactAdmission.Membership(handle: "mallory")
        #expect(ContactAdmission.decide(card: p.malloryAsBob, name: "zed", stored: nil, holder: nil, member: member).action == .add)
        #expect(ContactAdmission.decide(card: p.malloryAsBob, name: "bob", stored: p.bob, holder: ("mallory", p.mallory), member: member).action
                == .alreadyKnown(as: "mallory"))
        #expect(ContactAdmission.decide(card: p.bobRenamed, name: "bob", stored: p.bob, holder: nil, member: member).action
                == .update(upgrade: false, keepsVerified: false))
    }

    @Test(arguments: cases.indices) func decision(_ index: Int) {
        let (what, make) = Self.cases[index]
        let (card, name, stored, holder, expectedName, expected) = make(Self.people)
        let decision = ContactAdmission.decide(card: card, name: name, stored: stored, holder: holder)
        #expect(decision.action == expected, "\(what)")
        #expect(decision.name == expectedName, "\(what)")
    }
}
