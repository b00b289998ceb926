import Testing
@testable import RoomKeyCore

/// Which delivered outbox entries go before the 30-day history ends (`OutboxHistory.expiresEarly`).
struct OutboxHistoryTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let kind: String
        let delivered: Bool
        let keysExpired: Bool
        let goes: Bool
        var testDescription: String { "\(kind) delivered \(delivered) keys expired \(keysExpired)" }
    }

    static let rows: [Row] = [
        Row(kind: OutboxHistory.senderKeyKind, delivered: true, keysExpired: true, goes: true),
        Row(kind: OutboxHistory.senderKeyKind, delivered: true, keysExpired: false, goes: false),
        Row(kind: OutboxHistory.senderKeyKind, delivered: false, keysExpired: true, goes: false),
        Row(kind: "commit", delivered: true, keysExpired: true, goes: false),
        Row(kind: "resend", delivered: true, keysExpired: true, goes: false),
        Row(kind: "leave-request", delivered: true, keysExpired: true, goes: false),
    ]

    @Test(arguments: rows)
    func expiresEarly(_ row: Row) {
        #expect(OutboxHistory.expiresEarly(kind: row.kind, delivered: row.delivered, keysExpired: row.keysExpired) == row.goes)
    }
}
