/// How much change text one page may carry (PROTOCOL.md §10): a server cuts a page at its
/// `limit` of rows or at `maxBytes` of their text, whichever comes first, so that its line stays
/// within `maxLineBytes` however long the changes are. The first row always goes in: a change
/// came to the server in a line of its own, so it fits one.
///
/// Every store and the shared log tail count with this, so pages cut the same everywhere; before
/// it, pages were cut by rows alone, and a practice that pushed long changes made pages of 85 MB,
/// which no replica of its cluster could read.
public struct PageBudget: Sendable {
    /// The change text of one page: a quarter of the default line, and far above what 1,000
    /// ordinary changes (about 300 bytes each) take, so it bites only on long ones.
    public static let maxBytes = 1 << 20

    private var used = 0
    private var rows = 0

    public init() {}

    /// Takes a row of `bytes` of text if it fits (the first always does); false: the page ends
    /// before it, and says `more`.
    public mutating func take(_ bytes: Int) -> Bool {
        if rows > 0, used + bytes + 1 > Self.maxBytes { return false }
        used += bytes + 1
        rows += 1
        return true
    }

    /// How many of `sizes`, from the first, go in one page of at most `limit` rows.
    public static func rows(_ sizes: some Sequence<Int>, limit: Int) -> Int {
        var budget = PageBudget()
        var count = 0
        for size in sizes {
            guard count < limit, budget.take(size) else { break }
            count += 1
        }
        return count
    }
}
