import RoomKeyCore
/// When a room's superseded epochs stopped being current, so that retention can delete them on time; the sealed
/// plaintext of a `key_retention` row, one per room.
///
/// An epoch is superseded when this keyring first stores a key of a later epoch (or, failing that, when `prune`
/// first sees the room at a later epoch). Epochs below `floor` were deleted by retention; they are remembered so a
/// late message gets "retention deleted its key" and a late bundle does not bring such a key back. Superseded
/// generations are rows of their own (`retired_key`), of which the ledger keeps only the earliest time one is due;
/// `keys` and `deleted` are those of a ledger written before them, moved into rows by the next write.
struct RetentionLedger: Codable, Equatable {
    /// Epochs from the floor up to (not including) `below` were superseded at time `at`.
    struct Span: Codable, Equatable {
        var below: UInt64
        var at: UInt64
    }

    /// A superseded generation: its key tag (hex), epoch, and when it was superseded.
    struct Retired: Codable, Equatable {
        var tag: String
        var epoch: UInt64
        var at: UInt64
    }

    /// A generation retention deleted (while its epoch is still above the floor).
    struct Deleted: Codable, Equatable {
        var tag: String
        var epoch: UInt64
    }

    /// The newest epoch seen.
    var latestEpoch: UInt64
    /// Every epoch below this was deleted.
    var floor: UInt64 = 0
    /// Superseded epochs, oldest first.
    var epochs: [Span] = []
    /// When the earliest superseded generation not yet deleted (a `retired_key` row) was superseded; nil for none.
    var nextKeyExpiry: UInt64? = nil
    /// Superseded generations not yet deleted, listed by a ledger written before `retired_key`.
    var keys: [Retired] = []
    /// Deleted generations, listed by a ledger written before `retired_key`.
    var deleted: [Deleted] = []

    /// The most deleted generations remembered per room (the oldest are forgotten first; a late message under a
    /// forgotten one is then reported as pending rather than deleted).
    static let maxDeleted = 4096

    /// What expired: epochs to delete, listed generation key tags (hex) to delete, and whether superseded
    /// generations kept as rows are due (at or before the cutoff).
    struct Expiry: Equatable {
        var epochs: Range<UInt64>? = nil
        var keys: [String] = []
        var rowsDue = false
        var isEmpty: Bool { epochs == nil && keys.isEmpty && !rowsDue }
    }

    /// True when retention deleted the key `keyTag` of `epoch`, as far as the ledger knows (the `retired_key` rows
    /// know the rest).
    func isDeleted(epoch: UInt64, keyTag: [UInt8]) -> Bool {
        if epoch < floor { return true }
        if deleted.isEmpty { return false }
        let hex = Hex.encode(keyTag)
        return deleted.contains { $0.tag == hex }
    }

    /// Records that a superseded generation kept as a row was superseded at `at`.
    mutating func noteRetiredRow(at: UInt64) {
        nextKeyExpiry = min(nextKeyExpiry ?? at, at)
    }

    /// Records that every epoch below `epoch` is superseded as of `now`, if it was not already.
    mutating func noteEpoch(_ epoch: UInt64, now: UInt64) {
        guard epoch > latestEpoch else { return }
        epochs.append(Span(below: epoch, at: now))
        latestEpoch = epoch
    }

    /// Applies the clock: the room is at `currentEpoch`, and whatever was superseded at or before `cutoff` expires
    /// (nothing expires when `cutoff` is nil). Returns what the caller must delete.
    mutating func expire(currentEpoch: UInt64, now: UInt64, cutoff: UInt64?) -> Expiry {
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
