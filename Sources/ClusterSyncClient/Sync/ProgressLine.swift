import ClusterSyncCore

/// What a long sync or merge shows while it runs: on a terminal, one line redrawn in place; in a
/// log or a pipe, a plain line now and then. The front end only writes the text this returns
/// (to stderr) and says whether stderr is a terminal; time is passed in, so tests need no clock.
public struct ProgressLine: Sendable {
    public enum Style: Sendable, Equatable {
        /// One line redrawn in place (`\r`, then the text, then clear-to-end-of-line).
        case terminal
        /// One line per report, each ending in a newline.
        case plain
    }

    /// One thing being counted: "pushed 3,000 of 10,000", "pulled 45,000".
    public struct Count: Sendable, Equatable {
        public var verb: String
        public var done: Int
        /// Nil when the total is not known (a pull learns only that more pages follow).
        public var total: Int?

        public init(_ verb: String, _ done: Int, of total: Int? = nil) {
            self.verb = verb
            self.done = done
            self.total = total
        }
    }

    public let style: Style
    /// Nothing is shown before the work has run this long: a short sync stays quiet.
    public let delaySeconds: Double
    /// The shortest time between two reports.
    public let intervalSeconds: Double
    private var startedAt: Double?
    private var shownAt: Double?
    private var latest: [Count] = []
    private var shownText: String?

    /// Terminal: shown after 0.5 s, redrawn at most 10 times a second. Plain: a line every
    /// `intervalSeconds` (10 by default), the first after the same delay.
    public init(style: Style, intervalSeconds: Double? = nil, delaySeconds: Double? = nil) {
        self.style = style
        self.intervalSeconds = intervalSeconds ?? (style == .terminal ? 0.1 : 10)
        self.delaySeconds = delaySeconds ?? (style == .terminal ? 0.5 : self.intervalSeconds)
    }

    /// Call when the work starts (otherwise the first update starts the clock).
    public mutating func start(now: Double) {
        if startedAt == nil { startedAt = now }
    }

    /// The text to write for these counts at `now`, or nil when it is not time to show anything.
    public mutating func update(_ counts: [Count], now: Double) -> String? {
        start(now: now)
        latest = counts
        let started = startedAt ?? now
        guard now - started >= delaySeconds else { return nil }
        if let shownAt, now - shownAt < intervalSeconds { return nil }
        return show(now: now)
    }

    /// The text to write when the work ends: a terminal's line completed with a newline, or a
    /// last plain line with the final counts; nil when nothing was shown (the work was short).
    public mutating func finish(now: Double) -> String? {
        guard shownText != nil else { return nil }
        let text = Self.describe(latest, seconds: now - (startedAt ?? now))
        switch style {
        case .terminal:
            return "\r" + text + Self.clearToEnd + "\n"
        case .plain:
            return text == shownText ? nil : text + "\n"
        }
    }

    private mutating func show(now: Double) -> String {
        shownAt = now
        let text = Self.describe(latest, seconds: now - (startedAt ?? now))
        shownText = text
        switch style {
        case .terminal: return "\r" + text + Self.clearToEnd
        case .plain: return text + "\n"
        }
    }

    static let clearToEnd = "\u{1B}[K"

    /// "pushed 3,000 of 10,000, pulled 45,000: 12,300 changes/s, 4 s".
    public static func describe(_ counts: [Count], seconds: Double) -> String {
        let parts = counts.map { count in
            "\(count.verb) \(grouped(count.done))" + (count.total.map { " of \(grouped($0))" } ?? "")
        }
        let done = counts.reduce(0) { $0 + $1.done }
        var text = parts.joined(separator: ", ")
        if seconds >= 0.05 {
            text += ": \(grouped(Int((Double(done) / seconds).rounded()))) changes/s, \(elapsed(seconds))"
        }
        return text
    }

    /// 1234567 as "1,234,567".
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func elapsed(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        return whole < 60 ? "\(whole) s" : "\(whole / 60) min \(whole % 60) s"
    }
}

extension ClientSyncStateMachine.Progress {
    /// This sync's counts for a progress line: the push's total is known, the pull's is not.
    public var counts: [ProgressLine.Count] {
        var counts: [ProgressLine.Count] = []
        if toPush > 0 { counts.append(.init("pushed", pushed, of: toPush)) }
        counts.append(.init("pulled", pulled))
        return counts
    }
}
