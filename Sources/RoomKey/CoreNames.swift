import RoomKeyCore

/// Core names that Foundation also declares: this module means the core's bundle.
typealias Bundle = RoomKeyCore.Bundle
/// The membership operation, not Foundation's `Operation`.
typealias Operation = RoomKeyCore.Operation
