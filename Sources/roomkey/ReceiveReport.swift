import Foundation
import RoomKey
import RoomKeyCore

/// What `receive` prints: each result as it is decided, the bundles written in response, a one-line summary, and a
/// progress line on a terminal's standard error for long runs. With `--json`, one document at the end instead.
final class ReceiveReport {
    /// Runs with at least this many inputs show a progress line (when standard error is a terminal).
    static let progressThreshold = 50

    /// One result as printed and as put in the JSON document.
    struct Line: Encodable {
        let path: String, status: String, roomId: String?, epoch: UInt64?, error: String?, reason: String?, bundles: [String]
        /// True for a bundle an earlier run kept, retried in this one (absent for the run's own inputs).
        var kept: Bool? = nil
        /// What the user should know of an input that did not fail it (also a `roomkey: warning:` line).
        var warning: String? = nil

        /// The text line: `STATUS  PATH  room ID epoch N: why`.
        var text: String {
            "\(status)  \(path)" + (kept == true ? " (kept from an earlier run)" : "") + (roomId.map { "  room \($0) epoch \(epoch ?? 0)" } ?? "") + ((error ?? reason).map { ": \($0)" } ?? "")
        }
    }

    private let output: Output
    private let total: Int
    private let progress: Bool
    private var done = 0

    init(output: Output, total: Int) {
        self.output = output
        self.total = total
        progress = Self.showsProgress(total: total, stderrIsTerminal: isatty(STDERR_FILENO) == 1)
    }

    /// Whether a run of `total` inputs shows a progress line.
    static func showsProgress(total: Int, stderrIsTerminal: Bool) -> Bool { stderrIsTerminal && total >= progressThreshold }

    /// Reports a file that is no roomkey input.
    func ignored(_ path: String, reason: String) -> Line {
        let line = Line(path: path, status: "ignored", roomId: nil, epoch: nil, error: nil, reason: reason, bundles: [])
        show(line)
        return line
    }

    /// Reports a result as soon as the keyring decided it.
    func decided(_ result: ReceiveResult, looksLikeMessage: Bool) {
        show(Self.line(result))
        guard result.status == .rejected || result.status == .malformed else { return }
        clearProgress()
        Output.stderr("roomkey: error: \(result.path): \(Output.oneLine(result.error?.message ?? result.status.rawValue, keepingLineFeeds: true))")
        if looksLikeMessage {
            Output.stderr("roomkey: hint: \(result.path) is a room message, not a bundle: read it with 'roomkey decrypt'")
        }
        drawProgress()
    }

    /// Ends the run: the JSON document, or the bundles written in response and the summary line.
    func finish(_ results: [ReceiveResult], ignored: [Line]) {
        clearProgress()
        let lines = ignored + results.map(Self.line)
        if output.json {
            output.result(["results": lines]) { [] }
            return
        }
        guard !output.quiet else { return }
        for line in lines { for bundle in line.bundles { print(SafeText.escaped("wrote \(bundle)")) } }
        print(Self.summary(lines.map(\.status)))
    }

    /// `summary: 3 applied, 1 duplicate, 2 ignored` in a fixed order of statuses.
    static func summary(_ statuses: [String]) -> String {
        let counts = counted(statuses)
        return "summary: " + (counts.isEmpty ? "nothing to receive" : counts.joined(separator: ", "))
    }

    /// `["3 applied", "1 duplicate"]`: how many of `statuses` have each status, in a fixed order, none for a zero.
    static func counted(_ statuses: [String], leaving: Set<String> = [], extra: [String: Int] = [:]) -> [String] {
        let order = ["applied", "duplicate", "pending", "not-for-me", "ignored", "rejected", "malformed"]
        return order.filter { !leaving.contains($0) }.compactMap { status -> String? in
            let n = statuses.filter { $0 == status }.count + (extra[status] ?? 0)
            return n == 0 ? nil : "\(n) \(status)"
        }
    }

    static func line(_ r: ReceiveResult) -> Line {
        Line(path: r.path, status: r.status.rawValue, roomId: r.roomID?.hex, epoch: r.epoch,
             error: r.error.map { Output.oneLine($0.message, keepingLineFeeds: true) }, reason: nil, bundles: r.bundles,
             kept: r.kept ? true : nil, warning: r.warning.map { Output.oneLine($0, keepingLineFeeds: true) })
    }

    private func show(_ line: Line) {
        done += 1
        guard !output.json else { drawProgress(); return }
        clearProgress()
        // Cut as a line on standard error is: an error quoting a bundle's 100,000 recipients stays one line a terminal shows.
        if !output.quiet { print(Output.bounded(line.text)); fflush(nil) }
        drawProgress()
    }

    private func drawProgress() {
        guard progress else { return }
        Output.writeStandardError("roomkey: receiving: \(min(done, total)) of \(total)")
    }

    private func clearProgress() {
        guard progress else { return }
        Output.writeStandardError("\r\u{1B}[K")
    }
}
