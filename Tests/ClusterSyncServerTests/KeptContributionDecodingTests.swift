@testable import ClusterSyncServer
import ClusterSyncCore
import Foundation
import Testing

/// Kept roll-up rows on a PostgreSQL store are shared by nodes of two releases during a rolling
/// upgrade: a kind of row the older node does not know (as `bodyMeeting` was to the release
/// before it) is skipped rather than stopping every roll-up it serves (review, forty-third
/// session). A row of a known kind that does not decode is still an error.
@Suite struct KeptContributionDecodingTests {
    @Test func aKindOfRowALaterVersionWroteIsSkippedAndADamagedOneIsNot() throws {
        let meeting = RollupContribution.bodyMeeting(.init(body: "stakeholder-board", date: CalendarDate("2026-11-20")!, status: "held"))
        let text = try ServerOversight.encode(meeting)
        #expect(text.hasPrefix("{\"bodyMeeting\":"))
        #expect(try ServerOversight.decode(text) == meeting)
        #expect(try ServerOversight.decode(#"{"quorumBreach":{"date":"2027-01-01"}}"#) == nil)
        #expect(throws: DecodingError.self) { try ServerOversight.decode(#"{"risk":5}"#) }
        #expect(throws: (any Error).self) { try ServerOversight.decode("not json") }
        // Every case the stores write is a known kind (so a new case must be added to the list).
        for contribution: RollupContribution in [
            .risk(.init(likelihood: 1, consequence: 1, status: "open", reviewDate: nil, escalation: nil)),
            .action(.init(status: "not-started", dueDate: nil)), meeting,
            .planContribution(.init(practice: "rhyl", year: "2026-27", date: nil)),
        ] {
            let key = try #require(try JSONSerialization.jsonObject(with: Data(ServerOversight.encode(contribution).utf8)) as? [String: Any]).keys.first
            #expect(key.map(ServerOversight.knownContributionKinds.contains) == true, "\(String(describing: key))")
        }
    }
}
