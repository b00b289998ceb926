import Foundation
import GRDB
import RoomKeyCore

/// What `acceptKeyChange(named:)` did.
public enum KeyChangeAcceptance: Sendable, Equatable {
    /// The changed key was accepted: `keyChanged` is cleared and the contact stays unverified.
    case accepted
    /// The contact's key had not changed; nothing was stored.
    case notChanged
}

/// Errors recording verification decisions.
public enum VerificationError: Error, Equatable, Sendable {
    /// The contact's identity key is no longer the one whose safety number was compared.
    case identityChanged(name: String)
}

extension VerificationError: RoomKeyError {
    /// A stale comparison is rejected.
    public var category: ErrorCategory { .rejected }

    /// A one-line description.
    public var message: String {
        switch self {
        case let .identityChanged(name): "the identity key of \"\(name)\" changed while it was being verified"
        }
    }

    /// A next step.
    public var hint: String? {
        switch self {
        case let .identityChanged(name): "compare the new safety number: run '\(ShellWord.command(["verify"], [name]))' again"
        }
    }
}

extension Keyring {
    /// Marks the contact `name` verified and clears `keyChanged`; with `identity`, only if its key is still that one.
    @discardableResult
    public func markVerified(named name: String, identity: IdentityID? = nil) throws -> Contact {
        try updateContact(named: name) { record, contact in
            if let identity, identity != contact.id { throw VerificationError.identityChanged(name: name) }
            if record.verified, !record.keyChanged { return false }
            record.verified = true
            record.keyChanged = false
            record.accepted = nil
            return true
        }
    }

    /// Clears `keyChanged` of the contact `name`, recording an explicit acceptance of its new key; it stays unverified.
    public func acceptKeyChange(named name: String) throws -> KeyChangeAcceptance {
        var outcome = KeyChangeAcceptance.notChanged
        _ = try updateContact(named: name) { record, _ in
            guard record.keyChanged else { return false }
            record.keyChanged = false
            record.verified = false
            record.accepted = true
            outcome = .accepted
            return true
        }
        return outcome
    }

    /// True when the contact's current key was accepted with `acceptKeyChange` rather than verified.
    public func keyChangeAccepted(named name: String) throws -> Bool {
        let record = try read { db -> ContactRecord? in
            let tag = try contactTag(db, name)
            guard let sealed = try sealedContactRow(db, tag: tag) else { return nil }
            return try openContactRecord(Array(sealed), tag: tag)
        }
        guard let record else { throw ContactError.notFound(name: name) }
        return record.accepted ?? false
    }

    /// Reads, changes and (when `change` returns true) re-seals the row of contact `name` in one write transaction.
    private func updateContact(named name: String, _ change: (inout ContactRecord, Contact) throws -> Bool) throws -> Contact {
        try automaticPrune()
        return try write { db in
            let tag = try contactTag(db, name)
            guard let sealed = try sealedContactRow(db, tag: tag) else { throw ContactError.notFound(name: name) }
            // openContactRecord checks the row's name tag.
            var record = try openContactRecord(Array(sealed), tag: tag)
            let contact = Contact(name: record.name, card: record.card, verified: record.verified, keyChanged: record.keyChanged,
                                  added: record.added)
            guard try change(&record, contact) else { return contact }
            let resealed = sealContactRecord(record, tag: tag)
            try db.cachedStatement(sql: "UPDATE contact SET sealed = ? WHERE name_tag = ?").execute(arguments: [Data(resealed), Data(tag)])
            try syncKeyChangeAlert(db, tag: tag, keyChanged: record.keyChanged)
            try noteContactChange(db, [contact.id] + keyHistory(db, named: contact.name).map(\.card.id))
            try audit(db, record.verified ? .contactVerify : .contactAccept, Self.auditName(name))
            return Contact(name: contact.name, card: contact.card, verified: record.verified, keyChanged: record.keyChanged,
                           added: contact.added)
        }
    }
}
