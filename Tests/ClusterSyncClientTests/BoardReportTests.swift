import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Synchronization
import Testing

/// `Replica.boardReport`: the risks closed in a period, each on the day it was closed.
@Suite struct BoardReportTests {
    final class Clock: Sendable {
        let millis = Mutex<Int64>(0)
        func set(_ day: String) { millis.withLock { $0 = Int64(CalendarDate(day)!.dayNumber) * 86_400_000 + 36_000_000 } }
        var now: Int64 { millis.withLock { $0 } }
    }

    @Test func aRiskIsReportedClosedOnTheDayItFirstClosed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = Clock()
        clock.set("2026-05-01")
        let r = try makeReplica(dir, "lead", practice: "prestatyn", clock: { clock.now })
        try r.rememberRole(.clusterLead, region: nil)
        let settled = try r.add(.risk, edits: [.set("title", .string("Flu clinic staffing"))])
        let reopened = try r.add(.risk, edits: [.set("title", .string("Lift out of service"))])
        clock.set("2026-05-10")
        _ = try r.edit(settled, .set("status", .string("closed")), .set("lessons_learned", .string("Book bank staff in August")))
        clock.set("2026-05-15")
        _ = try r.edit(reopened, .set("status", .string("closed")))
        clock.set("2026-06-01")
        _ = try r.edit(settled, .set("status", .string("closed")))  // written again: it closed on 10 May
        clock.set("2026-07-01")
        _ = try r.edit(reopened, .set("status", .string("open")))

        let year = try r.boardReport(period: ReportPeriod("2026-27"), today: CalendarDate("2026-11-23"))
        #expect(year.closedRisks.map { "\($0.risk.name) \($0.closedOn)" } == ["Flu clinic staffing 2026-05-10"])
        #expect(year.closedRisks.first?.risk.string("lessons_learned") == "Book bank staff in August")
        // In a report of May, the risk reopened since is closed, as it was then.
        let may = try r.boardReport(period: ReportPeriod("2026-05-01..2026-05-31"), today: CalendarDate("2026-11-23"))
        #expect(may.closedRisks.map { "\($0.risk.name) \($0.closedOn)" } == ["Flu clinic staffing 2026-05-10", "Lift out of service 2026-05-15"])
    }

    /// A financial year holds the end of one QAIF year (30 September) and the start of the
    /// next: the report gives the ended year's final attendance as well as the running one's
    /// (before the forty-third session only the running one, so a report on 2026-27 never showed
    /// how 2025-26 ended).
    @Test func theQAIFYearThatEndedInThePeriodIsReportedWithItsFinalAttendance() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = Clock()
        clock.set("2026-11-23")
        let r = try makeReplica(dir, "lead", practice: "prestatyn", clock: { clock.now })
        for date in ["2025-11-05", "2026-01-14", "2026-04-08", "2026-07-08", "2026-10-07"] {
            let m = try r.add(.meeting, edits: [.set("title", .string("GP Collaborative")), .set("body", .string("gp-collaborative")),
                                                .set("date", .string(date)), .set("status", .string("held"))])
            try r.attend(m, Attendee(name: "Dr Siân Evans", role: "member", practice: "prestatyn"))
        }
        let year = try r.boardReport(period: ReportPeriod("2026-27"), today: CalendarDate("2026-11-23"))
        #expect(year.attendance.year.description == "2026-27" && year.attendance.held.count == 1)
        let ended = try #require(year.endedAttendance)
        #expect(ended.year.description == "2025-26" && ended.held.count == 4)
        #expect(ended.practices.map { "\($0.practice) \($0.attended.count) \($0.status.rawValue)" } == ["prestatyn 4 met"])
        // A period that holds no 30 September has none.
        #expect(try r.boardReport(period: ReportPeriod("2026-10-01..2026-11-30"), today: CalendarDate("2026-11-23")).endedAttendance == nil)
    }

    /// A PCPG's or Health Board's replica holds roll-ups and escalated risks, not a cluster's
    /// registers: asked for a cluster's report or attendance it says so, rather than answering
    /// with an empty report that reads as nothing to report (PCPG audit, forty-second session).
    @Test func aReadOnlyReplicaSendsClusterReportsToTheRollup() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pcpg = try Replica.createReadOnly(path: dir.path("pcpg.sqlite"), tenant: "bcuhb", role: .pcpg, region: "conwy",
                                              displayName: "PCPG analyst").0
        // A QAIF or financial year is four digits and the next year's two: `+123-24` was read as
        // the year 123 (review).
        #expect(QAIFYear("+123-24") == nil && QAIFYear("0000-01") == nil && FinancialYear("9999-00") == nil && QAIFYear("2026-27") != nil)
        for ask in [{ _ = try pcpg.boardReport() }, { _ = try pcpg.attendance() }] as [() throws -> Void] {
            #expect { try ask() } throws: { error in
                guard let error = error as? ClusterSyncError else { return false }
                return error.code == .forbiddenScope && error.message.contains("pcpg replica of region conwy") && error.message.contains("clustersync rollup")
            }
        }
    }

    /// A report covers at most five years (each risk is rebuilt at every month end: a period of
    /// centuries typed into the app held it for minutes); a contribution's year is a QAIF year.
    @Test func aReportsPeriodAndAContributionsYearAreBounded() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try makeReplica(dir, "lead", practice: "prestatyn")
        #expect { try r.boardReport(period: ReportPeriod("1900-01-01..2999-12-31")) } throws: {
            ($0 as? ClusterSyncError)?.message.contains("a report covers at most five years") == true
        }
        // Years no register's date has are no period at all (typed dates run 1900 to 2999).
        #expect(ReportPeriod("0001-01-01..9999-12-31") == nil)
        _ = try r.boardReport(period: ReportPeriod("2022-04-01..2027-03-31"))
        #expect { _ = try r.add(.contribution, edits: [.set("contributor", .string("prestatyn")), .set("year", .string("2026-28"))]) } throws: {
            ($0 as? ClusterSyncError)?.field == "year"
        }
        _ = try r.add(.contribution, edits: [.set("contributor", .string("prestatyn")), .set("year", .string("2026-27"))])
    }

    /// Guide §3.8: "a mechanism to report on the lessons learned from risk reviews": a review of
    /// a risk still open teaches too, and the report shows it in the period it was written.
    @Test func lessonsLearnedOnRisksStillOpenAreReportedInThePeriodTheyWereWritten() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = Clock()
        clock.set("2026-03-01")
        let r = try makeReplica(dir, "lead", practice: "prestatyn", clock: { clock.now })
        try r.rememberRole(.clusterLead, region: nil)
        let open = try r.add(.risk, edits: [.set("title", .string("Phlebotomy waits")), .set("lessons_learned", .string("First draft"))])
        let closing = try r.add(.risk, edits: [.set("title", .string("Flu clinic staffing"))])
        let blank = try r.add(.risk, edits: [.set("title", .string("Lift out of service"))])
        clock.set("2026-06-12")
        _ = try r.edit(open, .set("lessons_learned", .string("Book the community hub a month ahead")))
        _ = try r.edit(closing, .set("lessons_learned", .string("Bank staff in August")))
        _ = try r.edit(blank, .set("owner", .string("Practice manager")))
        clock.set("2026-07-01")
        _ = try r.edit(closing, .set("status", .string("closed")))

        let year = try r.boardReport(period: ReportPeriod("2026-27"), today: CalendarDate("2026-11-23"))
        #expect(year.lessonsFromOpenRisks.map { "\($0.risk.name) \($0.writtenOn)" } == ["Phlebotomy waits 2026-06-12"])
        #expect(year.closedRisks.map(\.risk.name) == ["Flu clinic staffing"], "a closed risk's lessons are in its own section")
        // The lessons written in the year before are not this year's; in that year they were.
        let before = try r.boardReport(period: ReportPeriod("2025-26"), today: CalendarDate("2026-11-23"))
        #expect(before.lessonsFromOpenRisks.map(\.risk.name) == ["Phlebotomy waits"])
        #expect(before.lessonsFromOpenRisks.first?.risk.string("lessons_learned") == "First draft", "as it stood on the period's last day")
    }

    /// A report of a period that ended is of its last day: a risk closed and an action completed
    /// since count as they stood then (governance audit: the 2025-26 report said "figures as at
    /// 31 Mar 2026" and showed today's, no open risk and no overdue action).
    @Test func aPastPeriodIsReportedAsItStoodOnItsLastDay() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = Clock()
        clock.set("2026-02-01")
        let r = try makeReplica(dir, "lead", practice: "prestatyn", clock: { clock.now })
        try r.rememberRole(.clusterLead, region: nil)
        let risk = try r.add(.risk, edits: [.set("title", .string("Locum gap")),
                                            .set("score", RiskScore(likelihood: 5, consequence: 4)!.jsonValue)])
        let action = try r.add(.action, edits: [.set("title", .string("Agree a rota")), .set("due_date", .string("2026-03-15"))])
        clock.set("2026-05-10")
        _ = try r.edit(risk, .set("status", .string("closed")))
        _ = try r.edit(action, .set("status", .string("complete")))
        _ = try r.add(.risk, edits: [.set("title", .string("Made after the year"))])

        let last = try r.boardReport(period: ReportPeriod("2025-26"), today: CalendarDate("2026-11-23"))
        #expect(last.asOf == CalendarDate("2026-03-31"))
        #expect(last.rollup.risks.byStatus["open"] == 1 && last.rollup.risks.total == 1 && last.rollup.risks.byBand["extreme"] == 1, "\(last.rollup.risks)")
        #expect(last.overdue.map(\.id) == [action], "due 15 March, not complete on 31 March")
        #expect(last.rollup.actions.overdue == 1)
        // This year's report is of today: the risk closed, the action complete.
        let now = try r.boardReport(period: ReportPeriod("2026-27"), today: CalendarDate("2026-11-23"))
        #expect(now.rollup.risks.byStatus["open"] == 1 && now.rollup.risks.byBand["extreme"] == 0)
        #expect(now.overdue.isEmpty && now.rollup.actions.overdue == 0)
    }
}
