import ClusterSyncCore
import ClusterSyncServerTesting
import Testing

@testable import ClusterSyncServer

/// The next page read while the client applies the last (`PageReadAhead`), through the
/// production `SessionHandler`: it answers only the pull it was read for, and is let go
/// otherwise.
@Suite struct PageReadAheadTests {
    static let connection = SessionLimitsTests.connection
    static let hello = SessionLimitsTests.hello

    /// A session welcomed, after W95011 pushed changes 1...`count`, and the budget it reads ahead in.
    static func session(afterPushes count: Int, budget: ReadAheadBudget) async throws -> TestSession {
        let session = try await TestSession.start(connection) { $0.readAheads = budget }
        let changes = (1...count).map { n in
            Change(id: ChangeID(replica: ReplicaID("00000000000000c3")!, counter: Int64(n)),
                   hlc: HLCTimestamp(millis: connection.nowMillis - 60_000, logical: UInt16(n)),
                   record: RecordID.random(for: .risk), scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title",
                   value: .string("Risk \(n)"), supersedes: [])
        }
        try await session.otherSessionPushes(Push(batch: "b", changes: changes))
        try await session.send(line: hello)
        _ = try #require(await session.nextLine())
        return session
    }

    /// Pulls and returns the counters of the page's changes, its cursor and `more`.
    static func pull(_ session: TestSession, cursor: Cursor?, limit: Int) async throws -> (counters: [Int64], cursor: Cursor, more: Bool) {
        let cursorField = cursor.map { #","cursor":"\#($0.rawValue)""# } ?? ""
        try await session.send(line: #"{"limit":\#(limit)\#(cursorField),"type":"pull"}"#)
        let line = try #require(await session.nextLine())
        guard case .changes(let page) = try WireCodec.decode(line) else {
            Issue.record("expected a page, got \(line)")
            throw CancellationError()
        }
        return (page.changes.map(\.id.counter), page.cursor, page.more)
    }

    @Test func eachPageThatSaysMoreHasTheNextReadAheadForThePullThatFollows() async throws {
        let budget = ReadAheadBudget(maxPages: 4)
        let session = try await Self.session(afterPushes: 5, budget: budget)
        let first = try await Self.pull(session, cursor: nil, limit: 2)
        #expect(first.counters == [1, 2] && first.more)
        #expect(budget.pagesHeld == 1, "the second page is being read")
        let second = try await Self.pull(session, cursor: first.cursor, limit: 2)
        #expect(second.counters == [3, 4] && second.more)
        #expect(budget.pagesHeld == 1, "the third page is being read, the second let go")
        let last = try await Self.pull(session, cursor: second.cursor, limit: 2)
        #expect(last.counters == [5] && !last.more)
        #expect(budget.pagesHeld == 0, "nothing is read after the last page")
    }

    @Test func aPullFromAnotherCursorOrWithAnotherLimitReadsItsOwnPage() async throws {
        let budget = ReadAheadBudget(maxPages: 4)
        let session = try await Self.session(afterPushes: 5, budget: budget)
        let first = try await Self.pull(session, cursor: nil, limit: 2)
        #expect(first.counters == [1, 2])
        let again = try await Self.pull(session, cursor: nil, limit: 2)
        #expect(again.counters == [1, 2], "from the start again, not the page read ahead")
        let longer = try await Self.pull(session, cursor: again.cursor, limit: 3)
        #expect(longer.counters == [3, 4, 5] && !longer.more, "the limit asked for, not the one read ahead with")
    }

    @Test func aPageReadAheadIsLetGoWhenTheClientSendsAnythingButAPull() async throws {
        let budget = ReadAheadBudget(maxPages: 4)
        let session = try await Self.session(afterPushes: 5, budget: budget)
        let first = try await Self.pull(session, cursor: nil, limit: 2)
        #expect(first.more && budget.pagesHeld == 1)
        try await session.send(line: #"{"type":"ping"}"#)
        #expect(try await session.nextLine() == #"{"type":"pong"}"#)
        #expect(budget.pagesHeld == 0)
        let second = try await Self.pull(session, cursor: first.cursor, limit: 2)
        #expect(second.counters == [3, 4], "read when asked for")
    }

    @Test func theBudgetBoundsThePagesHeldAndAPageLetGoFreesItsPlace() async throws {
        let budget = ReadAheadBudget(maxPages: 2)
        let page = ChangesPage(storedTexts: [], cursor: StreamCursor.cursor(at: 1), more: false)
        var held = [PageReadAhead?](repeating: nil, count: 3)
        for index in held.indices {
            held[index] = PageReadAhead.start(after: StreamCursor.cursor(at: 0), limit: 10, budget: budget) { page }
        }
        #expect(held.map { $0 != nil } == [true, true, false], "the third is not read ahead")
        #expect(budget.pagesHeld == 2)
        #expect(await held[0]?.page(answering: StreamCursor.cursor(at: 0), limit: 10) == page)
        #expect(await held[1]?.page(answering: StreamCursor.cursor(at: 0), limit: 9) == nil)
        held[0] = nil
        #expect(budget.pagesHeld == 1)
        #expect(PageReadAhead.start(after: StreamCursor.cursor(at: 0), limit: 10, budget: budget) { page } != nil)
        #expect(budget.pagesHeld == 1, "the page started and dropped at once let go of its place")
    }
}
