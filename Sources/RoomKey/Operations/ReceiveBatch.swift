import Foundation
import RoomKeyCore

/// The inputs of one `receive`, parsed (their stanza lists hashed) on another core from the moment the batch is made. A
/// caller that makes it before it opens the keyring overlaps the two: a large room's bundle takes as long to hash as a
/// keyring takes to open and get ready. `Keyring.receive` waits for the parse.
public final class ReceiveBatch: @unchecked Sendable {
    /// The inputs, in the order given.
    public let inputs: [ReceiveInput]
    private let parsing = DispatchGroup()
    // Written by the parsing thread before it leaves the group, read after `wait`: the group orders the two.
    private var slots: [Result<Bundle, WireError>?] = []

    /// Starts parsing (and hashing) every input that is not a leave request, on another thread.
    public init(_ inputs: [ReceiveInput]) {
        self.inputs = inputs
        DispatchQueue.global().async(group: parsing) { [self] in
            slots = inputs.map { input in
                LeaveRequest.looksLike(input.bytes) ? nil : Result { () throws(WireError) in try Bundle.parse(input.bytes) }
            }
        }
    }

    /// Waits for the parse and hands over its slots, one per input: nil for a leave request, else the bundle or why the
    /// input is not one. The batch keeps none, so each slot can be let go once read; a second call returns none.
    func takeParsed() -> [Result<Bundle, WireError>?] {
        parsing.wait()
        defer { slots = [] }
        return slots
    }
}
