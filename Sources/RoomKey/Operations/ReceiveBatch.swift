import Foundation
import RoomKeyCore
import Synchronization

/// The inputs of one `receive`, parsed (their stanza lists hashed) on another core from the moment the batch is made. A
/// caller that makes it before it opens the keyring overlaps the two: a large room's bundle takes as long to hash as a
/// keyring takes to open and get ready. `Keyring.receive` waits for the parse; a batch is received once.
public final class ReceiveBatch: Sendable {
    /// A batch handed to `receive` a second time.
    public enum Failure: RoomKeyError, Equatable {
        /// Its parsed bundles were already taken by a `receive`.
        case alreadyReceived

        public var category: ErrorCategory { .failure }
        public var message: String { "these bundles were already received once (make a new batch to receive them again)" }
    }

    /// The inputs, in the order given.
    public let inputs: [ReceiveInput]
    private let parsing = DispatchGroup()
    private let state = Mutex<(slots: [Result<Bundle, WireError>?], taken: Bool)>(([], false))

    /// Starts parsing (and hashing) every input that is not a leave request, on another thread.
    public init(_ inputs: [ReceiveInput]) {
        self.inputs = inputs
        DispatchQueue.global().async(group: parsing) { [self] in
            let slots = inputs.map { input -> Result<Bundle, WireError>? in
                if let parsed = input.parsed { return parsed }
                return LeaveRequest.looksLike(input.bytes) ? nil : Result { () throws(WireError) in
                    try Bundle.parse(input.bytes, stanzaHashOfTheseBytes: input.stanzaHash)
                }
            }
            state.withLock { $0.slots = slots }
        }
    }

    /// Waits for the parse, taking nothing.
    func waitUntilParsed() { parsing.wait() }

    /// Waits for the parse and hands over its slots, one per input: nil for a leave request, else the bundle or why the
    /// input is not one. The batch keeps none, so each slot can be let go once read; a second call throws.
    func takeParsed() throws(Failure) -> [Result<Bundle, WireError>?] {
        parsing.wait()
        return try state.withLock { (state) throws(Failure) -> [Result<Bundle, WireError>?] in
            guard !state.taken else { throw .alreadyReceived }
            state.taken = true
            defer { state.slots = [] }
            return state.slots
        }
    }
}
