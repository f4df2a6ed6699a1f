import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

enum MeetingKind: RegisterKind {
    static let type = RecordType.meeting
    static let listColumns = ["date", "body", "title", "status"]
    static let abstract = "Meetings of the cluster's bodies: date, attendees, agenda, minutes, quorum."
    static let derivedColumn: String? = "quorum_met"
    static var extraSubcommands: [any ParsableCommand.Type] { [AttendMeeting.self, UnattendMeeting.self] }
}

enum DecisionKind: RegisterKind {
    static let type = RecordType.decision
    static let listColumns = ["date", "title", "method", "outcome"]
    static let abstract = "The decision log: how each decision was taken, votes, interests declared."
    static let derivedColumn: String? = "outcome_matches_votes"
    static var extraSubcommands: [any ParsableCommand.Type] { [VoteOnDecision.self, WithdrawVote.self] }
}

enum DeclarationKind: RegisterKind {
    static let type = RecordType.declaration
    static let listColumns = ["member", "organisation", "nature", "date_declared", "date_withdrawn"]
    static let abstract = "The declarations of interest register."
    static let derivedColumn: String? = "in_force"
}

enum TermsKind: RegisterKind {
    static let type = RecordType.terms
    static let listColumns = ["body", "title", "date_agreed", "review_date", "quorum"]
    static let abstract = "Terms of reference of the cluster's bodies (one record per agreed version)."
    static let derivedColumn: String? = "review_overdue"
}

enum PlanKind: RegisterKind {
    static let type = RecordType.plan
    static let listColumns = ["title", "period_start", "period_end", "status"]
    static let abstract = "The cluster plan: period, priorities, linked risks, actions and decisions."
    static let derivedColumn: String? = nil
}

enum ContributionKind: RegisterKind {
    static let type = RecordType.contribution
    static let listColumns = ["contributor", "year", "date", "plan"]
    static let abstract = "GP practices' contributions to the cluster plan / IMTP (CND015W, CND016W; deadline 30 September)."
    static let derivedColumn: String? = "on_time"
}

struct AttendMeeting: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attend", abstract: "Record who attended a meeting, in what capacity.",
        discussion: """
            Roles: member (for a GP practice: a clinical partner or senior clinician), substitute (an approved \
            substitute; --replaces names the member stood in for), buddy (a practice representing another, --represents), \
            in-attendance (officers, observers).
            Capacities: clinician (a clinical partner or other senior practice-employed clinician), senior-administrator, \
            practice-manager.
            For QAIF CND014W a substitute or buddy counts for a practice only with --agreed-by: who agreed it before the meeting; \
            so does a practice manager or a senior administrator attending alone as a member (seed 003: another \
            representative than a clinician is agreed with the Health Board before the meeting).
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The meeting (MTG- id).") var meeting: String
    @Argument(help: "The attendee's name.") var name: String
    @Option(help: "member, substitute, buddy or in-attendance.") var role: String = "member"
    @Option(help: "clinician, senior-administrator or practice-manager (not recorded when left out).") var capacity: String?
    @Option(help: "The practice (its id) the attendee comes from or attends for.") var practice: String?
    @Option(help: "For a buddy: the practice represented.") var represents: String?
    @Option(help: "For a substitute: the member they stand in for (counted and voting in that member's place).") var replaces: String?
    @Option(help: "Who agreed the substitute or buddying arrangement in advance.") var agreedBy: String?
    @Option(help: ArgumentHelp("With --agreed-by: the day it was agreed (after the meeting, it does not count).", valueName: "YYYY-MM-DD"))
    var agreedOn: String?

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: meeting, of: .meeting)
        try replica.attend(view.id, Attendee.typed(name: name, role: role, capacity: capacity, practice: practice, represents: represents,
                                                   replaces: replaces, agreedBy: agreedBy, agreedOn: agreedOn))
    }
}

struct UnattendMeeting: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unattend", abstract: "Remove an attendee recorded by mistake.")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The meeting (MTG- id).") var meeting: String
    @Argument(help: "The attendee's name, as recorded.") var name: String

    func run() throws {
        let replica = try replica.open()
        try replica.unattend(try replica.requireRecord(typed: meeting, of: .meeting).id, name: name)
    }
}

struct VoteOnDecision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vote", abstract: "Record a member's vote: for, against or abstain (each member's vote is their own).",
        discussion: """
            A vote recorded again changes it. With --proxy the member was absent and a proxy cast the vote (show \
            flags it unless the terms of reference allow proxy votes: proxy_votes=yes); recorded again without it, \
            the vote was cast in person. The chair's casting vote in a tie is a field of the decision: decision set DEC- casting_vote=for \
            (or against, or not-used), counted when the terms give the chair one (casting_vote=yes).
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The decision (DEC- id).") var decision: String
    @Argument(help: "The member's name.") var member: String
    @Argument(help: "for, against or abstain.") var vote: String
    @Flag(help: "The member abstains because of a declared interest: also recorded in abstained_for_interest.") var interest = false
    @Flag(help: "The member was absent and a proxy cast the vote: also recorded in voted_by_proxy.") var proxy = false

    func run() throws {
        let replica = try replica.open()
        let changes = try replica.vote(try replica.requireRecord(typed: decision, of: .decision).id, member: member, vote,
                                       forInterest: interest, byProxy: proxy)
        if Replica.nowCastInPerson(changes) {
            Output.print("\(member)'s vote is now recorded as cast in person (it was by proxy); add --proxy if a proxy cast it")
        }
    }
}

struct WithdrawVote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unvote", abstract: "Withdraw a vote recorded by mistake (the member did not vote).",
        discussion: """
            The member's vote is taken out of the tally, and the member out of voted_by_proxy and \
            abstained_for_interest. History keeps the vote withdrawn. A vote recorded wrongly is changed with vote instead.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The decision (DEC- id).") var decision: String
    @Argument(help: "The member's name, as the vote records it (case and spacing aside).") var member: String

    func run() throws {
        let replica = try replica.open()
        try replica.withdrawVote(try replica.requireRecord(typed: decision, of: .decision).id, member: member)
    }
}

struct InterestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interests",
        abstract: "Interests in force for a meeting's attendees on its date, or for a decision (its meeting's attendees and voters).")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "A meeting (MTG-) or decision (DEC-) id.") var id: String

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: nil)
        let interests = try replica.interestsInForce(for: view.id)
        if output.json {
            Output.printJSON(.object(["record": .string(view.id.rawValue), "interests": .array(interests.map { interest in
                .object([
                    "member": .string(interest.member), "declaration": .string(interest.declaration.id.rawValue),
                    "organisation": interest.declaration.value("organisation") ?? .null,
                    "nature": interest.declaration.value("nature") ?? .null,
                    "description": interest.declaration.value("description") ?? .null,
                    "date_declared": interest.declaration.value("date_declared") ?? .null,
                ])
            })]))
            return
        }
        guard !interests.isEmpty else { return Output.print("no interests in force for \(view.id)") }
        Output.print(Output.table(["member", "declaration", "nature", "organisation", "description"], interests.map {
            [$0.member, $0.declaration.id.rawValue, $0.declaration.string("nature") ?? "", $0.declaration.string("organisation") ?? "",
             Output.truncated($0.declaration.string("description") ?? "", 40)]
        }))
    }
}

struct AttendanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attendance",
        abstract: "GP Collaborative meetings attended per practice in a QAIF year, against the minimum of four (CND014W).",
        discussion: """
            The QAIF year runs 1 October to 30 September (2026-27: October 2026 to September 2027). Practices listed: those in the GP Collaborative's terms of \
            reference (practices+=ID) and any with recorded attendance. A substitute or buddy counts only when agreed \
            in advance (attend --agreed-by). Meetings left: GP Collaborative meetings recorded later in the year and \
            not yet held. A practice is red when attending all of them would still leave it short of four.
            """)

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("The QAIF year, YYYY-YY (default: the current one).", valueName: "YYYY-YY")) var year: String?

    func run() throws {
        let replica = try replica.open()
        var qaifYear: QAIFYear?
        if let year {
            guard let parsed = QAIFYear(year) else { throw ValidationError("--year must be a QAIF year like 2026-27; got \(year)") }
            qaifYear = parsed
        }
        let report = try replica.attendance(year: qaifYear)
        if output.json { return Output.printJSON(report.jsonValue) }
        Output.print("GP Collaborative attendance \(report.year) (\(report.year.first) to \(report.year.last)): "
            + "\(report.held.count) meeting\(report.held.count == 1 ? "" : "s") held, \(report.left.count) left; minimum \(AttendanceReport.minimum)")
        Output.print(Output.table(["practice", "attended", "needed", "status", "not counted"], report.practices.map { row in
            let style: Output.Style = switch row.status { case .met: .green; case .canReach: .yellow; case .cannotReach: .red }
            let word = switch row.status { case .met: "met"; case .canReach: "can reach"; case .cannotReach: "RED: cannot reach" }
            return [row.practice, "\(row.attended.count)", "\(row.needed)",
                    Output.styled(word, style), row.notCounted.map { "\($0.name): \($0.reason)" }.joined(separator: "; ")]
        }))
    }
}

extension Output {
    /// What `show` adds for governance records: attendees, votes, and the checks that read other
    /// records (`GovernanceRecords.checks`: quorum, majority, interests in force, the votes).
    static func governanceLines(_ view: RecordView, _ governance: GovernanceRecords) -> String {
        var lines: [String] = []
        let width = labelWidth(view.type)
        func line(_ label: String, _ text: String) { lines.append("  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + text) }
        switch view.type {
        case .meeting:
            if !view.attendees.isEmpty { line("attended", view.attendees.map(\.text).joined(separator: "\n" + String(repeating: " ", count: width + 2))) }
        case .decision:
            let votes = view.mapLines("votes")
            if !votes.isEmpty { line("votes", votes.joined(separator: ", ")) }
        default:
            break
        }
        for check in governance.checks(of: view) { line(check.label, check.needsAttention ? styled(check.text, .red) : check.text) }
        return lines.isEmpty ? "" : "\n" + lines.joined(separator: "\n")
    }
}

struct OverdueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overdue",
        abstract: "Overdue reviews and actions across the registers: risks and terms of reference past their review date, actions past their due date.")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let replica = try replica.open()
        let today = replica.today
        let views = try replica.overdue()
        if output.json {
            return Output.printJSON(.object(["records": .array(views.map { $0.jsonValue(today: today) })]))
        }
        guard !views.isEmpty else { return Output.print("nothing overdue") }
        Output.print(Output.table(["type", "id", "title", "owner", "date", "what"], views.map { view in
            [view.type.rawValue, view.id.rawValue, Output.truncated(view.name, 40), view.string("owner") ?? "",
             view.overdueDate?.description ?? "", view.type == .action ? "due" : "review"]
        }))
    }
}
