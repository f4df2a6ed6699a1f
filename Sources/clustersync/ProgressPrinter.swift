import ClusterSyncClient
import ClusterSyncCommandLine
import Foundation
import Synchronization

/// Writes a `ProgressLine`'s text to stderr: redrawn in place on a terminal, plain lines otherwise.
final class ProgressPrinter: Sendable {
    private let line: Mutex<ProgressLine>

    /// `plainSeconds`: how often a line is printed when stderr is not a terminal.
    init(plainSeconds: Double) {
        let terminal = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        var line = terminal ? ProgressLine(style: .terminal) : ProgressLine(style: .plain, intervalSeconds: plainSeconds)
        line.start(now: Self.now())
        self.line = Mutex(line)
    }

    func update(_ counts: [ProgressLine.Count]) {
        if let text = line.withLock({ $0.update(counts, now: Self.now()) }) { write(text) }
    }

    func finish() {
        if let text = line.withLock({ $0.finish(now: Self.now()) }) { write(text) }
    }

    /// Ends the line shown so far, if any, and counts from now: a watch's catch-ups are each a
    /// run of their own, so one after a quiet hour is not reported as an hour long.
    func restart() {
        let now = Self.now()
        let text = line.withLock { line in
            let text = line.finish(now: now)
            line = ProgressLine(style: line.style, intervalSeconds: line.intervalSeconds, delaySeconds: line.delaySeconds)
            line.start(now: now)
            return text
        }
        if let text { write(text) }
    }

    private func write(_ text: String) { StandardStream.write(text, to: .standardError) }

    private static func now() -> Double { Date().timeIntervalSince1970 }
}
