import Foundation
import RoomKeyCore

/// The sealed plaintext of a `contact` row.
///
/// Binary form: `01 | flags (u8) | added (u64) | name length (u16) | name (UTF-8) | card (its binary form, to the end)`,
/// flags being 1 verified, 2 key changed, 4 acceptance recorded, 8 accepted. Rows written before it hold the same fields
/// as JSON (`{"added":…,"card":"roomkey-card-v1:…","keyChanged":…,"name":…,"verified":…}`), which `decode` still reads;
/// a row is rewritten in the binary form the next time it changes.
struct ContactRecord: Equatable {
    /// The first byte of the binary form (a JSON row starts with `{`).
    static let version: UInt8 = 1

    /// The contact name.
    var name: String
    /// The current card.
    var card: IdentityCard
    /// True once the safety number was confirmed.
    var verified: Bool
    /// True when a card with another identity key replaced an earlier one.
    var keyChanged: Bool
    /// When the contact was first added.
    var added: UInt64
    /// True once the user explicitly accepted a changed key without verifying it (`contact accept`); nil in rows that
    /// never recorded it.
    var accepted: Bool? = nil

    /// The binary form.
    func encoded() -> [UInt8] {
        var flags: UInt8 = (verified ? 1 : 0) | (keyChanged ? 2 : 0)
        if let accepted { flags |= 4 | (accepted ? 8 : 0) }
        let nameBytes = Array(name.utf8)
        var w = ByteWriter(capacity: 12 + nameBytes.count + card.encoded.count)
        w.writeU8(Self.version)
        w.writeU8(flags)
        w.writeU64(added)
        w.writePrefixed(width: 2, nameBytes)
        w.write(card.encoded)
        return w.bytes
    }

    /// Reads either form; nil for anything else (the caller reports the row as damaged). The card's signature is not
    /// checked: it was checked before the card was stored, and the sealed row authenticates it.
    static func decode(_ plain: UnsafeRawBufferPointer) -> ContactRecord? {
        guard let first = plain.first else { return nil }
        if first == UInt8(ascii: "{") { return decodeJSON(plain) }
        guard first == version, plain.count >= 12 else { return nil }
        var r = ByteReader(Array(plain), what: "contact row")
        guard (try? r.readU8("version")) != nil, let flags = try? r.readU8("flags"), flags & 0xF0 == 0,
              let added = try? r.readU64("added"), let length = try? r.readU16("name length"), length > 0,
              let nameBytes = try? r.read(Int(length), "name"), let name = String(validating: nameBytes, as: UTF8.self),
              let cardBytes = try? r.read(r.remaining, "card"), let card = try? IdentityCard.parse(cardBytes) else { return nil }
        return ContactRecord(name: name, card: card, verified: flags & 1 != 0, keyChanged: flags & 2 != 0, added: added,
                             accepted: flags & 4 == 0 ? nil : flags & 8 != 0)
    }

    /// The JSON form of rows written before the binary one.
    private struct Legacy: Codable {
        var name: String
        var card: String
        var verified: Bool
        var keyChanged: Bool
        var added: UInt64
        var accepted: Bool?
    }

    private static func decodeJSON(_ plain: UnsafeRawBufferPointer) -> ContactRecord? {
        guard let legacy = try? JSONDecoder().decode(Legacy.self, from: Data(plain)),
              let card = try? IdentityCard.parsed(text: legacy.card) else { return nil }
        return ContactRecord(name: legacy.name, card: card, verified: legacy.verified, keyChanged: legacy.keyChanged,
                             added: legacy.added, accepted: legacy.accepted)
    }

    /// The JSON form, as rows were written before the binary one (for tests of old keyrings).
    func legacyJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(Legacy(name: name, card: card.text, verified: verified, keyChanged: keyChanged, added: added,
                                               accepted: accepted)))
    }
}
