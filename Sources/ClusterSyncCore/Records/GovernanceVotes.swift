/// A decision's votes read against the terms of reference in force and the meeting that took
/// it (guide §3.6, §3.7, §3.10): the tally, the majority it needs, and what a chair should check.
extension GovernanceRecords {
    public struct VoteCheck: Sendable, Equatable {
        public var votesFor = 0
        public var against = 0
        public var abstentions = 0
        public var terms: RecordID?
        public var rule: MajorityRule?
        /// Whether the votes carry the motion under the rule.
        public var carried: Bool?
        /// Whether the recorded outcome (agreed or rejected) is what the votes give.
        public var outcomeMatches: Bool?
        public var note: String?
        /// Members who voted for or against with an interest in force on the decision's date and
        /// are not recorded as abstaining for it (guide §3.7: interests are considered when
        /// decisions are made): the chair should check the vote.
        public var votedWithInterest: [String] = []
        /// Those who voted for or against who are not among the members the terms of reference
        /// in force list (one member, one vote, guide §3.6); empty when the terms list no members.
        public var nonMembers: [String] = []
        /// Members recorded in `abstained_for_interest` whose vote is for or against all the same:
        /// the record contradicts itself, and the vote counts in the tally until it is corrected.
        public var votedDespiteAbstaining: [String] = []
        /// Members recorded in `abstained_for_interest` with no declaration of interest in force
        /// on the decision's date: the register of interests is missing one, or the abstention
        /// is recorded for the wrong person (a chair's audit: nothing questioned it).
        public var abstainedWithoutDeclaration: [String] = []
        /// Whether the meeting that took the decision had its quorum (nil: not known, or the
        /// meeting is not marked held).
        public var meetingQuorate: Bool?
        /// Those who voted for or against who are not recorded as attending the meeting (judged
        /// once it is held and its attendance recorded).
        public var absentVoters: [String] = []
        /// The decision names a meeting marked cancelled.
        public var meetingCancelled = false
        /// An amount is recorded but financial implications are not marked: the majority for
        /// decisions with financial implications may be the one that applies.
        public var amountWithoutFinancialImplications = false
        /// Votes against a decision recorded as taken by consensus.
        public var againstConsensus = 0
        /// Members recorded as voting by proxy whom the terms of reference in force do not let
        /// vote so (`proxy_votes` not yes): their votes count in the tally until corrected.
        public var proxyNotAllowed: [String] = []
        /// Members recorded as voting by proxy and also as attending the held meeting.
        public var proxyButPresent: [String] = []
        /// A substitute who voted and the member they replace who voted too ("Sub (for Member)").
        public var substituteAndMemberVoted: [String] = []
        /// The chair's casting vote, counted: the votes tie under a simple majority and the terms
        /// of reference give the chair one. `not-used`: the chair let the tie stand (it falls).
        public var castingVote: String?
        /// Why a recorded casting vote was not counted.
        public var castingVoteNotCounted: String?
        /// The votes tie under a simple majority, the terms give the chair a casting vote, and
        /// none is recorded: the outcome waits on it.
        public var tieAwaitsCastingVote = false
    }

    /// The decision's date: its own, else its meeting's.
    public func date(of decision: RecordView) -> CalendarDate? {
        decision.date("date") ?? meeting(decision.string("meeting"))?.date("date")
    }

    public func votes(of decision: RecordView) -> VoteCheck {
        var check = VoteCheck()
        let votes = decision.mapValues("votes")
        var cast: [String] = []
        for (member, vote) in votes {
            switch vote.stringValue {
            case "for": check.votesFor += 1; cast.append(member)
            case "against": check.against += 1; cast.append(member)
            default: check.abstentions += 1
            }
        }
        let abstained = Set(decision.members("abstained_for_interest").compactMap(\.stringValue).map(Self.nameKey))
        check.votedDespiteAbstaining = cast.filter { abstained.contains(Self.nameKey($0)) }.sorted()
        let date = date(of: decision)
        if let date {
            let abstaining = decision.members("abstained_for_interest").compactMap(\.stringValue)
            let declared = Set(interests(of: abstaining, on: date).map { Self.nameKey($0.member) })
            check.abstainedWithoutDeclaration = abstaining.filter { !declared.contains(Self.nameKey($0)) }.sorted()
            // Guide §3.6: members abstain from *particular* decisions. A declaration naming
            // decisions bears on those (and on one that names it among its interests); one naming
            // none bears on every decision; a recorded dispensation lets the member take part.
            let considered = Set(decision.members("interests").compactMap(\.stringValue))
            check.votedWithInterest = Array(Set(interests(of: cast, on: date).filter { interest in
                let named = Set(interest.declaration.members("decisions").compactMap(\.stringValue))
                let bears = named.isEmpty || named.contains(decision.id.rawValue) || considered.contains(interest.declaration.id.rawValue)
                return bears && (interest.declaration.string("dispensation") ?? "").isEmpty
            }.map(\.member))).filter { !abstained.contains(Self.nameKey($0)) }.sorted()
        }
        let meeting = meeting(decision.string("meeting"))
        let terms = termsInForce(for: decision)
        checkAttendance(cast, of: decision, at: meeting, terms: terms, into: &check)
        check.meetingCancelled = meeting?.string("status") == "cancelled"
        if decision.string("method") == "consensus" { check.againstConsensus = check.against }
        let financial = decision.value("financial_implications")?.boolValue ?? false
        check.amountWithoutFinancialImplications = !financial && (decision.string("amount").flatMap(Double.init) ?? 0) > 0
        let casting = decision.string("casting_vote").flatMap { $0 == "not-used" ? nil : $0 }
        guard let meeting, let body = meeting.string("body"), let date else {
            check.note = "link the decision to a meeting with a body and date to find the majority required"
            if casting != nil { check.castingVoteNotCounted = "without its meeting's terms of reference, whether the chair has one is not known" }
            return check
        }
        guard let terms else {
            check.note = "no terms of reference for \(body) in force on \(date)"
            if casting != nil { check.castingVoteNotCounted = "no terms of reference for \(body) in force on \(date) say whether the chair has one" }
            return check
        }
        check.terms = terms.id
        // Without a separate rule for financial decisions, the ordinary majority applies.
        let ruleField = financial ? "financial_majority" : "majority"
        guard let rule = (terms.string(ruleField) ?? terms.string("majority")).flatMap(MajorityRule.init(rawValue:)) else {
            check.note = "the terms of reference \(terms.id) set no majority"
            if casting != nil { check.castingVoteNotCounted = "the terms of reference \(terms.id) set no majority" }
            return check
        }
        check.rule = rule
        guard decision.string("method") == "vote" else {
            if casting != nil { check.castingVoteNotCounted = "the decision is not recorded as taken by a vote" }
            return check
        }
        let carried = countCastingVote(decision.string("casting_vote"), rule: rule, terms: terms, into: &check)
        check.carried = carried
        switch decision.string("outcome") {
        case "agreed": check.outcomeMatches = carried
        case "rejected": check.outcomeMatches = !carried
        default: break
        }
        return check
    }

    /// Who voted against who attended, once the meeting is held, and what the terms say of
    /// proxies and of substitutes' seats (guide §3.10).
    private func checkAttendance(_ cast: [String], of decision: RecordView, at meeting: RecordView?, terms: RecordView?,
                                 into check: inout VoteCheck) {
        // A proxy votes for a member who is absent: judged against the terms in force (with
        // none, a proxy's vote is an absent member's, as any other).
        let byProxy = Set(decision.members("voted_by_proxy").compactMap(\.stringValue).map(Self.nameKey))
        let castByProxy = cast.filter { byProxy.contains(Self.nameKey($0)) }
        if let terms, terms.value("proxy_votes")?.boolValue != true { check.proxyNotAllowed = castByProxy.sorted() }
        guard let meeting else { return }
        let seats = quorum(ofHeld: meeting)
        if let terms, !terms.members("members").isEmpty {
            // One member, one vote (guide §3.6): the listed members, and the substitutes who hold a
            // seat at the meeting (agreed, standing in for a member not there) in their place.
            let members = Set((terms.members("members").compactMap(\.stringValue) + seats.seatedSubstitutes).map(Self.nameKey))
            check.nonMembers = cast.filter { !members.contains(Self.nameKey($0)) }.sorted()
        }
        // Judged once the meeting is held: before, its attendance may not be recorded yet.
        guard isHeld(meeting) else { return }
        check.meetingQuorate = seats.met
        let present = Set(attendees(ofHeld: meeting).map { Self.nameKey($0.name) })
        if !present.isEmpty {
            let excused = terms == nil ? [] : byProxy
            check.absentVoters = cast.filter { !present.contains(Self.nameKey($0)) && !excused.contains(Self.nameKey($0)) }.sorted()
            check.proxyButPresent = castByProxy.filter { present.contains(Self.nameKey($0)) }.sorted()
        }
        let voted = Set(cast.map(Self.nameKey))
        check.substituteAndMemberVoted = Array(Set(attendees(ofHeld: meeting).filter { a in
            a.role == "substitute" && voted.contains(Self.nameKey(a.name)) && a.replaces.map { voted.contains(Self.nameKey($0)) } == true
        }.map(Self.standingIn))).sorted()
    }

    /// Whether the votes carry once the chair's casting vote is weighed: it breaks a tie under a
    /// simple majority when the terms give the chair one; under a two-thirds or larger majority
    /// a tie does not carry, and one more vote must not make it.
    private func countCastingVote(_ casting: String?, rule: MajorityRule, terms: RecordView, into check: inout VoteCheck) -> Bool {
        let carried = rule.carries(for: check.votesFor, against: check.against)
        let tie = check.votesFor == check.against && check.votesFor > 0
        let chairHasOne = terms.value("chair_casting_vote")?.boolValue == true
        guard let casting else {
            check.tieAwaitsCastingVote = tie && rule == .simple && chairHasOne
            return carried
        }
        if casting == "not-used" {
            // The chair let a tie stand: it does not carry, as without a casting vote.
            if tie && rule == .simple && chairHasOne { check.castingVote = casting }
            return carried
        }
        if !chairHasOne {
            check.castingVoteNotCounted = "the terms of reference \(terms.id) are not recorded as giving the chair a casting vote"
        } else if check.votesFor + check.against == 0 {
            check.castingVoteNotCounted = "no votes were cast for or against"
        } else if !tie {
            check.castingVoteNotCounted = "the votes do not tie"
        } else if rule != .simple {
            check.castingVoteNotCounted = "a casting vote breaks a tie under a simple majority, and this decision needs \(rule.words)"
        } else {
            check.castingVote = casting
            return casting == "for"
        }
        return carried
    }
}

extension RecordView {
    /// A map field's entries as people read them, by key: a decision's votes as
    /// `Owain Price: for (by proxy)`. One wording for `show` and the app.
    public func mapLines(_ field: String) -> [String] {
        let byProxy = field == "votes" ? Set(members("voted_by_proxy").compactMap(\.stringValue).map(GovernanceRecords.nameKey)) : []
        return mapValues(field).sorted { $0.key < $1.key }.map { key, value in
            "\(key): \(value.stringValue ?? "")" + (byProxy.contains(GovernanceRecords.nameKey(key)) ? " (by proxy)" : "")
        }
    }
}
