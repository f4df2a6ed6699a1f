/// Values of governance records that read other records: a meeting's quorum from the terms of
/// reference in force on its date, a decision's majority and whether its outcome matches the
/// votes, the interests in force among a meeting's attendees. Computed when shown, never stored
/// (Protocol/changes.md §9).
public struct GovernanceRecords: Sendable {
    public private(set) var terms: [RecordView] = []
    public private(set) var meetings: [RecordView] = []
    public private(set) var decisions: [RecordView] = []
    public private(set) var declarations: [RecordView] = []
    /// The day checks are made on: a meeting dated after it is not held yet, whatever its
    /// status says (as `AttendanceReport` counts it). Nil: a meeting is held when marked so.
    public var today: CalendarDate?
    /// Meetings by id, and declarations by their member's `nameKey`: a register of 800 decisions
    /// looked up each one's meeting and its voters' declarations by walking every meeting and
    /// declaration, 21 s for `decision list` (the scale audit, forty-ninth session).
    private var meetingsByID: [String: RecordView] = [:]
    private var declarationsByMember: [String: [Declared]] = [:]
    /// Each meeting's quorum and attendees, by meeting id, once `withQuorumsWorkedOut` has
    /// worked them out.
    private var workedOut: [String: (quorum: QuorumCheck, attendees: [Attendee])] = [:]

    /// A declaration with its days read once: a decision log asks, of each voter at each of
    /// hundreds of decisions, which of their declarations were in force that day.
    private struct Declared: Sendable {
        var view: RecordView
        var declared: CalendarDate?
        var withdrawn: CalendarDate?

        init(_ view: RecordView) {
            self.view = view
            declared = view.date("date_declared")
            withdrawn = view.date("date_withdrawn")
        }

        /// As `RecordView.isInForce(from: date, to: date)`.
        func isInForce(on date: CalendarDate) -> Bool {
            guard let declared, declared <= date else { return false }
            return withdrawn.map { $0 > date } ?? true
        }
    }

    /// Takes any records; keeps the live governance ones.
    public init(_ records: some Sequence<RecordView>, today: CalendarDate? = nil) {
        self.today = today
        for view in records where !view.isDeleted {
            switch view.type {
            case .terms: terms.append(view)
            case .meeting:
                meetings.append(view)
                meetingsByID[view.id.rawValue] = view
            case .decision: decisions.append(view)
            case .declaration:
                declarations.append(view)
                if let member = view.string("member") { declarationsByMember[Self.nameKey(member), default: []].append(Declared(view)) }
            default: break
            }
        }
    }

    /// The version of a body's terms of reference in force on `date`: the one agreed latest on
    /// or before it (equal dates: the greater id, so every replica picks the same).
    public func termsInForce(body: String, on date: CalendarDate) -> RecordView? {
        terms.filter { $0.string("body") == body && ($0.date("date_agreed").map { $0 <= date } ?? false) }
            .max { ($0.date("date_agreed")!, $0.id) < ($1.date("date_agreed")!, $1.id) }
    }

    /// The terms of reference in force for a meeting's body on its date: whose members it
    /// offers, whose quorum it counts.
    public func termsInForce(at meeting: RecordView?) -> RecordView? {
        termsInForce(at: meeting, on: meeting?.date("date"))
    }

    /// The terms in force for a decision's meeting's body on the decision's date (its meeting's
    /// when it has none): whose members may vote on it.
    public func termsInForce(for decision: RecordView) -> RecordView? {
        termsInForce(at: meeting(decision.string("meeting")), on: date(of: decision))
    }

    private func termsInForce(at meeting: RecordView?, on date: CalendarDate?) -> RecordView? {
        guard let body = meeting?.string("body"), let date else { return nil }
        return termsInForce(body: body, on: date)
    }

    /// Overdue as a register means it (`RecordFilter.isOverdue`), except that terms of reference
    /// are overdue only in the version in force: one since replaced is never reviewed (as the
    /// roll-up counts them, `TermsCounts`).
    public func isOverdue(_ view: RecordView, today: CalendarDate) -> Bool {
        guard RecordFilter.isOverdue(view, today: today) else { return false }
        guard view.type == .terms else { return true }
        return termsInForce(body: view.string("body") ?? "", on: today)?.id == view.id
    }

    public func meeting(_ id: String?) -> RecordView? {
        guard let id else { return nil }
        return meetingsByID[id]
    }

    /// The decisions taken at a meeting, by date then id.
    public func decisions(takenAt meeting: RecordID) -> [RecordView] {
        decisions.filter { $0.string("meeting") == meeting.rawValue }
            .sorted { ($0.string("date") ?? "", $0.id) < ($1.string("date") ?? "", $1.id) }
    }

    /// What an action arising from `record` names as its `source`: the record, and for a meeting
    /// each decision taken at it too, as the minutes list them (web app audit: an action given
    /// its source showed nowhere on the meeting or the decision). Nil for a record actions do not
    /// arise from in the minutes' sense (only meetings and decisions).
    public func arisingSources(of record: RecordView) -> Set<RecordID>? {
        switch record.type {
        case .meeting: Set([record.id] + decisions(takenAt: record.id).map(\.id))
        case .decision: [record.id]
        default: nil
        }
    }

    // MARK: Quorum

    public struct QuorumCheck: Sendable, Equatable {
        public var terms: RecordID?
        public var rule: QuorumRule?
        public var roles: [String]
        /// Distinct attendees whose role counts.
        public var present: Int
        public var required: Int?
        public var met: Bool? { required.map { present >= $0 } }
        /// Why the quorum cannot be judged, when it cannot.
        public var note: String?
        /// Attendees recorded as members who are not among the members the terms of reference
        /// list (when they list them): they do not count.
        public var notListed: [String] = []
        /// Substitutes not agreed to (no `agreed_by`), or agreed only after the meeting: they do
        /// not count.
        public var unagreedSubstitutes: [String] = []
        /// Names recorded both as attending and among the apologies.
        public var alsoApologies: [String] = []
        /// Substitutes who replace someone recorded as attending too ("Sub (for Member)"): one
        /// seat, so the substitute does not count.
        public var substitutesBesideMember: [String] = []
        /// Substitutes who replace someone the terms of reference do not list as a member (when
        /// they list members): they do not count.
        public var substitutesForNonMembers: [String] = []
        /// Substitutes for a member another substitute already stands in for ("Sub (for
        /// Member)"): the first by name holds the seat, the others do not count.
        public var substitutesForTakenSeats: [String] = []
        /// The substitutes who hold a seat at the meeting, whatever roles the quorum counts:
        /// agreed in advance and not set aside above. They vote in a member's place.
        public var seatedSubstitutes: [String] = []

        /// The quorum in words, as `show` gives it: "met: 4 of 3 needed (member, substitute
        /// count; TOR-…)", "NOT MET: …", or "unknown: " and why it cannot be judged.
        public var words: String {
            if let required {
                return "\(met == true ? "met" : "NOT MET"): \(present) of \(required) needed (\(roles.joined(separator: ", ")) count; \(terms?.rawValue ?? ""))"
            }
            return "unknown: \(note ?? "no terms of reference")"
        }
    }

    public static let defaultQuorumRoles = ["member", "substitute"]

    /// A substitute as checks name one: "Sub A (for Rhys Morgan)".
    static func standingIn(_ substitute: Attendee) -> String { "\(substitute.name) (for \(substitute.replaces ?? ""))" }

    /// Which substitutes hold a seat (guide §3.10: membership and quorum are the terms'): one
    /// agreed in advance, and, when they name whom they replace, standing in for someone not
    /// there (`beside`: that person attends, even as a substitute), among the members the terms
    /// list when they list them (`forNonMembers`), and first by name for that member (`taken`).
    static func substituteSeats(_ attendees: [Attendee], listed: Set<String>, unagreed: Set<Attendee>)
        -> (seated: [Attendee], beside: [Attendee], forNonMembers: [Attendee], taken: [Attendee]) {
        let substitutes = attendees.filter { $0.role == "substitute" }
        let attending = Set(attendees.map { Self.nameKey($0.name) })
        let beside = substitutes.filter { $0.replaces.map { attending.contains(Self.nameKey($0)) } == true }
        let forNonMembers = listed.isEmpty ? [] : substitutes.filter { $0.replaces.map { !listed.contains(Self.nameKey($0)) } == true }
        let setAside = unagreed.union(beside).union(forNonMembers)
        var holders: [String: Attendee] = [:]
        var taken: [Attendee] = []
        for sub in substitutes.sorted(by: { ($0.name, $0.agreedBy ?? "") < ($1.name, $1.agreedBy ?? "") })
        where !setAside.contains(sub) {
            guard let member = sub.replaces.map(Self.nameKey) else { continue }
            if holders[member] == nil { holders[member] = sub } else { taken.append(sub) }
        }
        let seated = substitutes.filter { !setAside.contains($0) && !taken.contains($0) }
        return (seated, beside, forNonMembers, taken)
    }

    /// These records with every meeting's quorum worked out once, for checking many decisions
    /// together (the decision log): each decision's vote is judged against its meeting's quorum,
    /// and 800 decisions of 150 meetings worked each out again (the scale audit, forty-ninth
    /// session). A value, not a cache behind a lock: the records hold nothing that changes.
    public func withQuorumsWorkedOut() -> GovernanceRecords {
        var worked = self
        for meeting in meetings { worked.workedOut[meeting.id.rawValue] = (quorum(of: meeting), meeting.attendees) }
        return worked
    }

    /// The quorum of a meeting these records hold (as `meeting(_:)` gives it), worked out once
    /// when `withQuorumsWorkedOut` has been asked for.
    func quorum(ofHeld meeting: RecordView) -> QuorumCheck {
        workedOut[meeting.id.rawValue]?.quorum ?? quorum(of: meeting)
    }

    /// The attendees of a meeting these records hold, read once when `withQuorumsWorkedOut`
    /// has been asked for.
    func attendees(ofHeld meeting: RecordView) -> [Attendee] {
        workedOut[meeting.id.rawValue]?.attendees ?? meeting.attendees
    }

    public func quorum(of meeting: RecordView) -> QuorumCheck {
        let attendees = meeting.attendees
        func check(_ terms: RecordView?, note: String?) -> QuorumCheck {
            let roles = terms.map { $0.members("quorum_roles").compactMap(\.stringValue) }.flatMap { $0.isEmpty ? nil : $0 }
                ?? Self.defaultQuorumRoles
            // Guide §3.10: the terms set membership and quorum, so a member counts when the terms
            // list them (or list no one), and a substitute when someone agreed to it.
            let listed = Set(terms?.members("members").compactMap(\.stringValue).map(Self.nameKey) ?? [])
            let notListed = attendees.filter { $0.role == "member" && !listed.isEmpty && !listed.contains(Self.nameKey($0.name)) }
            // The arrangement rule attendance uses (`Attendee.arrangementRefusal`): agreed, and not
            // after the meeting.
            let date = meeting.date("date")
            let unagreed = attendees.filter { a in
                a.role == "substitute" && (date.map { a.arrangementRefusal(meetingOn: $0) != nil } ?? (a.agreedBy ?? "").isEmpty)
            }
            let seats = Self.substituteSeats(attendees, listed: listed, unagreed: Set(unagreed))
            // Left out entry by entry: one person recorded twice (on two laptops) keeps the seat
            // their other entry holds.
            let excluded = Set(notListed + unagreed + seats.beside + seats.forNonMembers + seats.taken)
            let counting = attendees.filter { roles.contains($0.role) && !excluded.contains($0) }
            let present = Set(counting.map { Self.nameKey($0.name) }).count
            let rule = terms?.value("quorum").flatMap(QuorumRule.init)
            var result = QuorumCheck(terms: terms?.id, rule: rule, roles: roles, present: present, required: nil, note: note)
            if roles.contains("member") { result.notListed = Array(Set(notListed.map(\.name))).sorted() }
            if roles.contains("substitute") {
                result.unagreedSubstitutes = Array(Set(unagreed.map(\.name))).sorted()
                result.substitutesBesideMember = Array(Set(seats.beside.map(Self.standingIn))).sorted()
                result.substitutesForNonMembers = Array(Set(seats.forNonMembers.map(Self.standingIn))).sorted()
                result.substitutesForTakenSeats = Array(Set(seats.taken.map(Self.standingIn))).sorted()
            }
            result.seatedSubstitutes = Array(Set(seats.seated.map(\.name))).sorted()
            let apologies = Set(meeting.members("apologies").compactMap(\.stringValue).map(Self.nameKey))
            result.alsoApologies = Array(Set(attendees.filter { apologies.contains(Self.nameKey($0.name)) }.map(\.name))).sorted()
            if let terms, let rule {
                result.required = rule.required(members: terms.members("members").count)
                if result.required == nil { result.note = "the terms of reference \(terms.id) set a proportion but list no members" }
            } else if let terms, note == nil {
                result.note = "the terms of reference \(terms.id) set no quorum"
            }
            return result
        }
        guard let body = meeting.string("body"), let date = meeting.date("date") else {
            return check(nil, note: "the meeting needs a body and a date to find its terms of reference")
        }
        guard let terms = termsInForce(body: body, on: date) else {
            return check(nil, note: "no terms of reference for \(body) in force on \(date)")
        }
        return check(terms, note: nil)
    }

    /// Whether a meeting has been held: marked so, and not dated after `today`.
    public func isHeld(_ meeting: RecordView) -> Bool {
        guard meeting.string("status") == "held" else { return false }
        guard let today, let date = meeting.date("date") else { return true }
        return date <= today
    }

    // MARK: Interests

    public struct InterestInForce: Sendable, Equatable {
        public var member: String
        public var declaration: RecordView
    }

    /// Declarations in force on `date` (declared on or before it, not withdrawn by then) of
    /// any of `names` (matched ignoring case and repeated spaces).
    public func interests(of names: [String], on date: CalendarDate) -> [InterestInForce] {
        let wanted = Dictionary(names.map { (Self.nameKey($0), $0) }, uniquingKeysWith: { a, _ in a })
        return wanted.flatMap { key, name in
            (declarationsByMember[key] ?? []).filter { $0.isInForce(on: date) }.map { InterestInForce(member: name, declaration: $0.view) }
        }.sorted { a, b in
            // By name as people read names (ignoring case and accents), each member's by the day
            // declared (an audit read 7 Jul 2020, 21 Jan 2020, 5 Jan 2020 in id order).
            let (keyA, keyB) = (RecordOrder.folded(a.member), RecordOrder.folded(b.member))
            if keyA != keyB { return keyA < keyB }
            if a.member != b.member { return a.member < b.member }
            let (dayA, dayB) = (a.declaration.date("date_declared")?.dayNumber ?? .max, b.declaration.date("date_declared")?.dayNumber ?? .max)
            return (dayA, a.declaration.id) < (dayB, b.declaration.id)
        }
    }

    /// Interests in force among a meeting's attendees on its date.
    public func interests(atMeeting meeting: RecordView) -> [InterestInForce] {
        guard let date = meeting.date("date") else { return [] }
        return interests(of: meeting.attendees.map(\.name), on: date)
    }

    /// Interests in force for a decision: of its meeting's attendees and of those who voted.
    public func interests(forDecision decision: RecordView) -> [InterestInForce] {
        guard let date = date(of: decision) else { return [] }
        let names = (meeting(decision.string("meeting")).map { attendees(ofHeld: $0).map(\.name) } ?? []) + decision.mapValues("votes").keys
        return interests(of: names, on: date)
    }

    /// A person's name as names are compared: as a set refuses a name spelled otherwise
    /// (`Edit.nameKey`: without case, accents or repeated spaces). Before the forty-sixth
    /// session this ignored case only, so a vote or a declaration typed "Dr Sian Evans" on a
    /// keyboard without â was another person to the quorum, tally and interest checks than the
    /// "Dr Siân Evans" the terms and the attendance already refused it beside (web app audit).
    public static func nameKey(_ name: String) -> String {
        Edit.nameKey(name)
    }

    // MARK: Checks, in words

    /// One line of what a meeting or decision is checked against, as the CLI's `show` and the
    /// web app's record page word it.
    public struct Check: Sendable, Equatable {
        public var label: String
        public var text: String
        /// Something for the chair or the lead to look at (a quorum not met, a vote the rules
        /// question), shown as such.
        public var needsAttention: Bool
    }

    /// What a meeting (quorum, interests in force) or a decision (tally, majority, interests,
    /// the checks on its votes) is checked against; for other records, what they say against
    /// themselves (`inconsistencies`).
    /// How many of one member's declarations in force a meeting's or decision's check names;
    /// the rest are counted (the Declarations of interest register lists them all).
    public static let declarationsNamed = 3

    public func checks(of view: RecordView) -> [Check] {
        var checks: [Check] = []
        func add(_ label: String, _ text: String, attention: Bool = false) { checks.append(Check(label: label, text: text, needsAttention: attention)) }
        // Each member once, with the first `declarationsNamed` declarations in force and how
        // many more (`interests` comes sorted by member): the scale audit found a member of 30
        // declarations named 30 times, and then 30 ids after the name.
        func named(_ interests: [InterestInForce]) -> String {
            var members: [(name: String, declarations: [String])] = []
            for interest in interests {
                if members.last?.name == interest.member {
                    members[members.count - 1].declarations.append(interest.declaration.id.rawValue)
                } else {
                    members.append((interest.member, [interest.declaration.id.rawValue]))
                }
            }
            return members.map { member in
                let more = member.declarations.count - Self.declarationsNamed
                let named = member.declarations.prefix(Self.declarationsNamed).joined(separator: "; ")
                return "\(member.name) (\(named)\(more > 0 ? "; and \(more) more" : ""))"
            }.joined(separator: ", ")
        }
        switch view.type {
        case .meeting:
            let q = quorum(of: view)
            if q.required != nil {
                add("quorum", q.words, attention: q.met != true)
            } else if q.note != nil {
                add("quorum", q.words)
            }
            if !q.notListed.isEmpty {
                add("CHECK", "recorded as members but not among the members the terms of reference list (not counted): \(q.notListed.joined(separator: ", "))",
                    attention: true)
            }
            if !q.unagreedSubstitutes.isEmpty {
                add("CHECK", "substitutes not agreed before the meeting (not counted): \(q.unagreedSubstitutes.joined(separator: ", "))",
                    attention: true)
            }
            if !q.alsoApologies.isEmpty {
                add("CHECK", "recorded both as attending and as sending apologies: \(q.alsoApologies.joined(separator: ", "))", attention: true)
            }
            if !q.substitutesBesideMember.isEmpty {
                add("CHECK", "substitutes for someone who attended themselves (not counted): \(q.substitutesBesideMember.joined(separator: ", "))",
                    attention: true)
            }
            if !q.substitutesForNonMembers.isEmpty {
                add("CHECK", "substitutes for someone not among the members the terms of reference list (not counted): "
                    + q.substitutesForNonMembers.joined(separator: ", "), attention: true)
            }
            if !q.substitutesForTakenSeats.isEmpty {
                add("CHECK", "substitutes for a member another substitute already stands in for (not counted): "
                    + q.substitutesForTakenSeats.joined(separator: ", "), attention: true)
            }
            let held = interests(atMeeting: view)
            if !held.isEmpty { add("interests held", named(held)) }
        case .decision:
            let v = votes(of: view)
            add("tally", "\(v.votesFor) for, \(v.against) against, \(v.abstentions) abstaining"
                + (v.castingVote.map { $0 == "not-used" ? "; the chair did not use a casting vote" : "; the chair's casting vote \($0)" } ?? ""))
            if let rule = v.rule { add("majority needed", "\(rule.rawValue) (\(v.terms?.rawValue ?? ""))") }
            if let note = v.note { add("majority needed", "unknown: \(note)") }
            if let carried = v.carried { add("votes carry", carried ? "yes" : "no") }
            if v.outcomeMatches == false { add("CHECK", "the recorded outcome does not match the votes and the majority rule", attention: true) }
            if v.tieAwaitsCastingVote {
                add("CHECK", "the votes tie and the terms of reference \(v.terms?.rawValue ?? "") give the chair a casting vote: "
                    + "record whether the chair used it (for, against or not used)", attention: true)
            }
            if let why = v.castingVoteNotCounted { add("CHECK", "a casting vote is recorded but not counted: \(why)", attention: true) }
            if v.meetingQuorate == false { add("CHECK", "taken at a meeting that did not have its quorum", attention: true) }
            if v.meetingCancelled { add("CHECK", "linked to a meeting marked cancelled", attention: true) }
            if !v.absentVoters.isEmpty {
                add("CHECK", "voted but not recorded as attending the meeting: \(v.absentVoters.joined(separator: ", "))", attention: true)
            }
            if v.amountWithoutFinancialImplications {
                add("CHECK", "an amount is recorded but financial implications are not marked: the majority for those may apply", attention: true)
            }
            if v.againstConsensus > 0 {
                add("CHECK", "decided by consensus, but \(v.againstConsensus) voted against", attention: true)
            }
            if !v.votedWithInterest.isEmpty {
                add("CHECK", "voted with an interest in force and not recorded as abstaining for it: \(v.votedWithInterest.joined(separator: ", "))",
                    attention: true)
            }
            if !v.votedDespiteAbstaining.isEmpty {
                add("CHECK", "recorded as abstaining for an interest but voted: \(v.votedDespiteAbstaining.joined(separator: ", "))", attention: true)
            }
            if !v.abstainedWithoutDeclaration.isEmpty {
                add("CHECK", "recorded as abstaining for an interest with no declaration of interest in force: "
                    + v.abstainedWithoutDeclaration.joined(separator: ", ") + " (record the declaration, or correct the abstention)", attention: true)
            }
            if !v.nonMembers.isEmpty {
                add("CHECK", "voted but not a member in the terms of reference \(v.terms?.rawValue ?? ""): \(v.nonMembers.joined(separator: ", "))",
                    attention: true)
            }
            if !v.proxyNotAllowed.isEmpty {
                add("CHECK", "voted by proxy, which the terms of reference \(v.terms?.rawValue ?? "") are not recorded as allowing "
                    + "(proxy votes: yes if they do): " + v.proxyNotAllowed.joined(separator: ", "), attention: true)
            }
            if !v.proxyButPresent.isEmpty {
                add("CHECK", "recorded as voting by proxy but also as attending the meeting: \(v.proxyButPresent.joined(separator: ", "))", attention: true)
            }
            if !v.substituteAndMemberVoted.isEmpty {
                add("CHECK", "a substitute and the member they replace both voted: \(v.substituteAndMemberVoted.joined(separator: ", "))", attention: true)
            }
            let held = interests(forDecision: view)
            if !held.isEmpty { add("interests held", named(held)) }
        default:
            for problem in Self.inconsistencies(of: view) { add("CHECK", problem, attention: true) }
        }
        return checks
    }

    /// What a terms of reference, a plan, a contribution or a declaration says against itself
    /// (governance audit: each was accepted without a word). Said as checks, not refused: fields
    /// written on two laptops may disagree until someone puts them right, as a conflict may.
    static func inconsistencies(of view: RecordView) -> [String] {
        var problems: [String] = []
        func before(_ later: String, _ earlier: String, _ words: String) {
            if let a = view.date(later), let b = view.date(earlier), a < b { problems.append(words) }
        }
        switch view.type {
        case .terms:
            before("review_date", "date_agreed", "the review date is before the date they were agreed")
            let members = view.members("members").count
            if case .count(let needed)? = view.value("quorum").flatMap(QuorumRule.init), members > 0, needed > members {
                problems.append("the quorum of \(needed) is more than the \(members) members they list")
            }
        case .plan:
            before("period_end", "period_start", "the plan period ends before it starts")
        case .contribution:
            if let year = view.string("year").flatMap(QAIFYear.init), let made = view.date("date"), made < year.first {
                problems.append("made on \(made), before the QAIF year \(year) began on \(year.first)")
            }
        case .declaration:
            before("date_withdrawn", "date_declared", "withdrawn before it was declared")
        default:
            break
        }
        return problems
    }

    // MARK: Derived values

    /// The derived values of a governance record that read other records, merged into the
    /// record's `derived` object when shown.
    public func derived(_ view: RecordView, today: CalendarDate? = nil) -> [String: JSONValue] {
        switch view.type {
        case .terms:
            // A version since replaced is never reviewed, so never overdue (`isOverdue`).
            guard let today, view.date("review_date") != nil else { return [:] }
            return ["review_overdue": .bool(isOverdue(view, today: today))]
        case .meeting:
            let q = quorum(of: view)
            var d: [String: JSONValue] = ["quorum_present": .int(Int64(q.present))]
            if let terms = q.terms { d["terms"] = .string(terms.rawValue) }
            if let required = q.required { d["quorum_required"] = .int(Int64(required)) }
            if let met = q.met { d["quorum_met"] = .bool(met) }
            if let note = q.note { d["quorum_note"] = .string(note) }
            if !q.notListed.isEmpty { d["quorum_not_listed"] = .array(q.notListed.map(JSONValue.string)) }
            if !q.unagreedSubstitutes.isEmpty { d["quorum_unagreed_substitutes"] = .array(q.unagreedSubstitutes.map(JSONValue.string)) }
            if !q.alsoApologies.isEmpty { d["attended_and_apologies"] = .array(q.alsoApologies.map(JSONValue.string)) }
            if !q.substitutesBesideMember.isEmpty { d["quorum_substitutes_beside_member"] = .array(q.substitutesBesideMember.map(JSONValue.string)) }
            if !q.substitutesForNonMembers.isEmpty { d["quorum_substitutes_for_non_members"] = .array(q.substitutesForNonMembers.map(JSONValue.string)) }
            if !q.substitutesForTakenSeats.isEmpty { d["quorum_substitutes_for_taken_seats"] = .array(q.substitutesForTakenSeats.map(JSONValue.string)) }
            return d
        case .decision:
            let v = votes(of: view)
            var d: [String: JSONValue] = [
                "votes_for": .int(Int64(v.votesFor)), "votes_against": .int(Int64(v.against)), "abstentions": .int(Int64(v.abstentions)),
            ]
            if let terms = v.terms { d["terms"] = .string(terms.rawValue) }
            if let rule = v.rule { d["majority_required"] = .string(rule.rawValue) }
            if let carried = v.carried { d["votes_carry"] = .bool(carried) }
            if let matches = v.outcomeMatches { d["outcome_matches_votes"] = .bool(matches) }
            if let note = v.note { d["majority_note"] = .string(note) }
            if !v.votedWithInterest.isEmpty { d["voted_with_interest"] = .array(v.votedWithInterest.map(JSONValue.string)) }
            if !v.nonMembers.isEmpty { d["non_member_votes"] = .array(v.nonMembers.map(JSONValue.string)) }
            if !v.votedDespiteAbstaining.isEmpty { d["voted_despite_abstaining"] = .array(v.votedDespiteAbstaining.map(JSONValue.string)) }
            if !v.abstainedWithoutDeclaration.isEmpty {
                d["abstained_without_declaration"] = .array(v.abstainedWithoutDeclaration.map(JSONValue.string))
            }
            if let quorate = v.meetingQuorate { d["meeting_quorate"] = .bool(quorate) }
            if !v.absentVoters.isEmpty { d["absent_voters"] = .array(v.absentVoters.map(JSONValue.string)) }
            if v.meetingCancelled { d["meeting_cancelled"] = .bool(true) }
            if v.amountWithoutFinancialImplications { d["amount_without_financial_implications"] = .bool(true) }
            if v.againstConsensus > 0 { d["votes_against_consensus"] = .int(Int64(v.againstConsensus)) }
            if !v.proxyNotAllowed.isEmpty { d["proxy_votes_not_allowed"] = .array(v.proxyNotAllowed.map(JSONValue.string)) }
            if !v.proxyButPresent.isEmpty { d["proxy_votes_of_attendees"] = .array(v.proxyButPresent.map(JSONValue.string)) }
            if !v.substituteAndMemberVoted.isEmpty { d["substitute_and_member_voted"] = .array(v.substituteAndMemberVoted.map(JSONValue.string)) }
            if let casting = v.castingVote { d["casting_vote_counted"] = .string(casting) }
            if let why = v.castingVoteNotCounted { d["casting_vote_not_counted"] = .string(why) }
            if v.tieAwaitsCastingVote { d["tie_awaits_casting_vote"] = .bool(true) }
            return d
        default:
            return [:]
        }
    }
}

extension RecordView {
    /// A date field's value, if it holds a valid date.
    public func date(_ field: String) -> CalendarDate? { string(field).flatMap(CalendarDate.init) }

    /// A meeting's attendees, by name (then role, practice).
    public var attendees: [Attendee] {
        members("attendees").compactMap(Attendee.init).sorted { ($0.name, $0.role, $0.practice ?? "") < ($1.name, $1.role, $1.practice ?? "") }
    }

    /// The values computed from the record's fields and from the other records it reads (a
    /// meeting's quorum, a decision's votes, whether terms of reference are the version in force);
    /// where both give one, the one that reads the other records.
    public func derived(today: CalendarDate, governance: GovernanceRecords) -> [String: JSONValue] {
        derived(today: today).merging(governance.derived(self, today: today)) { _, fromOthers in fromOthers }
    }

    /// The JSON shape of `RecordView.jsonValue`, with the derived values that read other records.
    public func jsonValue(today: CalendarDate, items: [RecordView]? = nil, governance: GovernanceRecords) -> JSONValue {
        guard case .object(var o) = jsonValue(today: today, items: items) else { return .null }
        if o["derived"] != nil {
            o["derived"] = .object(derived(today: today, governance: governance))
        }
        return .object(o)
    }
}
