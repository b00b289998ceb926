/// When a room's superseded epochs stopped being current, so that retention can delete them on time; the sealed
/// plaintext of a `key_retention` row, one per room.
///
/// An epoch is superseded when this keyring first stores a key of a later epoch (or, failing that, when `prune`
/// first sees the room at a later epoch). Epochs below `floor` were deleted by retention; they are remembered so a
/// late message gets "retention deleted its key" and a late bundle does not bring such a key back. Superseded
/// generations are rows of their own (`retired_key`), of which the ledger keeps only the earliest time one is due;
/// `keys` and `deleted` are those of a ledger written before them, moved into rows by the next write.
package struct RetentionLedger: Codable, Equatable, Sendable {
    /// Epochs from the floor up to (not including) `below` were superseded at time `at`.
    package struct Span: Codable, Equatable, Sendable {
        package var below: UInt64
        package var at: UInt64
    }

    /// A superseded generation: its key tag (hex), epoch, and when it was superseded.
    package struct Retired: Codable, Equatable, Sendable {
        package var tag: String
        package var epoch: UInt64
        package var at: UInt64
    }

    /// A generation retention deleted (while its epoch is still above the floor).
    package struct Deleted: Codable, Equatable, Sendable {
        package var tag: String
        package var epoch: UInt64
    }

    /// The newest epoch seen.
    package var latestEpoch: UInt64
    /// Every epoch below this was deleted.
    package var floor: UInt64 = 0
    /// Superseded epochs, oldest first.
    package var epochs: [Span] = []
    /// At most the time the earliest superseded generation not yet deleted (a `retired_key` row) was superseded (rows
    /// deleted with their epoch or by leaving are not counted out); nil for none.
    package var nextKeyExpiry: UInt64? = nil
    /// Superseded generations not yet deleted, listed by a ledger written before `retired_key`.
    package var keys: [Retired] = []
    /// Deleted generations, listed by a ledger written before `retired_key`.
    package var deleted: [Deleted] = []

    /// A ledger whose newest epoch is `latestEpoch` and whose every epoch below `floor` was deleted.
    package init(latestEpoch: UInt64, floor: UInt64 = 0) {
        (self.latestEpoch, self.floor) = (latestEpoch, floor)
    }

    /// Keys superseded at or before the time this returns have expired, for a room whose retention window is `window`
    /// seconds and a prune asked for keys `olderThan` seconds (the shorter counts); nil: nothing can have expired yet.
    package static func cutoff(now: UInt64, window: UInt64, olderThan: UInt64?) -> UInt64? {
        let window = min(window, olderThan ?? .max)
        return now >= window ? now - window : nil
    }

    /// The most deleted generations remembered per room, in a version 1 ledger's list or as `retired_key` rows (the
    /// oldest are forgotten first; a late message under a forgotten one is then reported as pending rather than deleted).
    package static let maxDeleted = 4096

    /// What expired: epochs to delete, listed generation key tags (hex) to delete, and whether superseded
    /// generations kept as rows are due (at or before the cutoff).
    package struct Expiry: Equatable, Sendable {
        package var epochs: Range<UInt64>? = nil
        package var keys: [String] = []
        package var rowsDue = false
        package var isEmpty: Bool { epochs == nil && keys.isEmpty && !rowsDue }
    }

    /// True when retention deleted the key `keyTag` of `epoch`, as far as the ledger knows (the `retired_key` rows
    /// know the rest).
    package func isDeleted(epoch: UInt64, keyTag: [UInt8]) -> Bool {
        if epoch < floor { return true }
        if deleted.isEmpty { return false }
        let hex = Hex.encode(keyTag)
        return deleted.contains { $0.tag == hex }
    }

    /// Records that a superseded generation kept as a row was superseded at `at`.
    package mutating func noteRetiredRow(at: UInt64) {
        nextKeyExpiry = min(nextKeyExpiry ?? at, at)
    }

    /// Records that every epoch below `epoch` is superseded as of `now`, if it was not already.
    package mutating func noteEpoch(_ epoch: UInt64, now: UInt64) {
        guard epoch > latestEpoch else { return }
        epochs.append(Span(below: epoch, at: now))
        latestEpoch = epoch
    }

    /// Applies the clock: the room is at `currentEpoch`, and whatever was superseded at or before `cutoff` expires
    /// (nothing expires when `cutoff` is nil). Returns what the caller must delete.
    package mutating func expire(currentEpoch: UInt64, now: UInt64, cutoff: UInt64?) -> Expiry {
        noteEpoch(currentEpoch, now: now)
        var expiry = Expiry()
        guard let cutoff else { return expiry }
        let start = floor
        while let first = epochs.first, first.at <= cutoff {
            floor = max(floor, first.below)
            epochs.removeFirst()
        }
        if floor > start { expiry.epochs = start..<floor }
        if let next = nextKeyExpiry, next <= cutoff { expiry.rowsDue = true }
        for key in keys where key.at <= cutoff && key.epoch >= floor {
            expiry.keys.append(key.tag)
            deleted.append(Deleted(tag: key.tag, epoch: key.epoch))
        }
        keys.removeAll { $0.at <= cutoff || $0.epoch < floor }
        deleted.removeAll { $0.epoch < floor }
        if deleted.count > Self.maxDeleted { deleted.removeFirst(deleted.count - Self.maxDeleted) }
        return expiry
    }
}
