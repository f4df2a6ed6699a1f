import ClusterSyncCore
import Synchronization

/// The page after one a pull was just answered with, read while the client applies that one.
///
/// A replica catching up asks for its next page as soon as one arrives, then applies the one it
/// has. Reading the next only when that pull came put the server's read, the sending and the
/// client's decoding of each page in a chain the client's writing waited on; read ahead, only
/// the sending and decoding are left in it (MEASUREMENTS.md, thirty-third session).
///
/// A page read ahead is the answer the pull would have had a moment earlier, which is always a
/// valid answer: the log only grows after a cursor, and what changes in place (a value erased
/// by a redaction, rows compacted) reaches a replica later in the stream either way. It is used
/// only by the next pull with exactly its cursor and limit; any other request drops it.
final class PageReadAhead: Sendable {
    let after: Cursor
    let limit: Int
    private let read: Task<ChangesPage?, Never>
    private let budget: ReadAheadBudget

    /// Starts reading the page after `after` with `read`, if `budget` has room for one more
    /// page; nil otherwise (the pull then reads it when it comes, as without read-ahead).
    static func start(after: Cursor, limit: Int, budget: ReadAheadBudget,
                      read: @escaping @Sendable () async throws -> ChangesPage) -> PageReadAhead? {
        guard budget.reserve() else { return nil }
        return PageReadAhead(after: after, limit: limit, budget: budget, read: Task { try? await read() })
    }

    private init(after: Cursor, limit: Int, budget: ReadAheadBudget, read: Task<ChangesPage?, Never>) {
        self.after = after
        self.limit = limit
        self.budget = budget
        self.read = read
    }

    /// The page read ahead, if it answers a pull from `cursor` with `limit` and its read
    /// succeeded; nil: the pull reads its page itself (and meets whatever error there is).
    func page(answering cursor: Cursor?, limit: Int) async -> ChangesPage? {
        guard cursor == after, limit == self.limit else { return nil }
        return await read.value
    }

    deinit {
        read.cancel()
        budget.release()
    }
}

/// How many pages all sessions together may hold read ahead: a page is at most
/// `PageBudget.maxBytes` of text, so the server's memory for them stays bounded however many
/// replicas catch up at once.
final class ReadAheadBudget: Sendable {
    let maxPages: Int
    private let held = Atomic<Int>(0)

    init(maxPages: Int = 32) { self.maxPages = maxPages }

    var pagesHeld: Int { held.load(ordering: .relaxed) }

    func reserve() -> Bool {
        var current = held.load(ordering: .relaxed)
        while current < maxPages {
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() { held.subtract(1, ordering: .relaxed) }
}
