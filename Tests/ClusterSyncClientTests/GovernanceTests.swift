import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// Governance records through the library on real replica files (issue 8, domain tests).
@Suite struct GovernanceTests {
    let dir: TemporaryDirectory

    init() throws { dir = try TemporaryDirectory() }

    /// A replica whose today is `date` (noon UTC).
    func replica(_ name: String, practice: String, today date: CalendarDate = fixedToday) throws -> Replica {
        let millis = Int64(date.dayNumber) * 86_400_000 + 43_200_000
        return try makeReplica(dir, name, practice: practice, clock: { millis })
    }

    func s(_ text: String) -> JSONValue { .string(text) }

    func terms(_ r: Replica, body: String = "stakeholder-board", agreed: String, quorum: String,
               majority: String = "simple", financial: String = "two-thirds", members: [String] = []) throws -> RecordID {
        try r.create(.terms, edits: [
            .set("title", s("\(body) terms")), .set("body", s(body)), .set("date_agreed", s(agreed)),
            .set("quorum", QuorumRule(typed: quorum)!.jsonValue), .set("majority", s(majority)), .set("financial_majority", s(financial)),
        ] + members.map { .add("members", s($0)) })
    }

    func meeting(_ r: Replica, body: String = "stakeholder-board", date: String, status: String = "held") throws -> RecordID {
        try r.create(.meeting, edits: [.set("title", s("\(body) \(date)")), .set("body", s(body)), .set("date", s(date)), .set("status", s(status))])
    }

    // MARK: Meetings and quorum

    @Test func stakeholderBoardMeetingWithASubstitute() throws {
        let r = try replica("board", practice: "prestatyn")
        let tor = try terms(r, agreed: "2026-04-01", quorum: "3")
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "Dr Siân Evans", role: "member", practice: "prestatyn"))
        try r.attend(m, Attendee(name: "Dr Gareth Jones", role: "member", practice: "rhyl"))
        try r.attend(m, Attendee(name: "Rhys Morgan", role: "substitute", practice: "meliden", agreedBy: "BCUHB primary care"))
        try r.attend(m, Attendee(name: "Megan Price", role: "in-attendance"))
        let view = try #require(try r.record(m))
        #expect(view.attendees.first { $0.name == "Rhys Morgan" }?.role == "substitute")
        let quorum = try r.governance().quorum(of: view)
        #expect(quorum.terms == tor && quorum.required == 3 && quorum.present == 3 && quorum.met == true)
        // Without the substitute the board is not quorate: the officer in attendance does not count.
        try r.unattend(m, name: "Rhys Morgan")
        #expect(try r.governance().quorum(of: try #require(try r.record(m))).met == false)
    }

    @Test func aMeetingWithTooFewMembersIsNotQuorate() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "1/2", members: ["A", "B", "C", "D", "E"])
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "A", role: "member"))
        try r.attend(m, Attendee(name: "a", role: "member"))  // the same person typed twice counts once
        try r.attend(m, Attendee(name: "B", role: "in-attendance"))
        let derived = try r.governance().derived(try #require(try r.record(m)))
        #expect(derived["quorum_required"] == .int(3))
        #expect(derived["quorum_present"] == .int(1))
        #expect(derived["quorum_met"] == .bool(false))
        // No terms for the body on the date: the quorum is not judged, and says why.
        let pcpg = try meeting(r, body: "pcpg", date: "2026-11-20")
        let unknown = try r.governance().derived(try #require(try r.record(pcpg)))
        #expect(unknown["quorum_met"] == nil && unknown["quorum_note"]?.stringValue?.contains("no terms of reference for pcpg") == true)
    }

    @Test func termsOfReferenceChangedBetweenTwoMeetings() throws {
        let r = try replica("board", practice: "prestatyn")
        let first = try terms(r, agreed: "2026-04-01", quorum: "3", financial: "two-thirds")
        let second = try terms(r, agreed: "2026-10-01", quorum: "2", financial: "simple")
        let september = try meeting(r, date: "2026-09-15")
        let november = try meeting(r, date: "2026-11-20")
        for m in [september, november] {
            try r.attend(m, Attendee(name: "A", role: "member"))
            try r.attend(m, Attendee(name: "B", role: "member"))
        }
        let g = try r.governance()
        let before = g.quorum(of: try #require(try r.record(september)))
        let after = g.quorum(of: try #require(try r.record(november)))
        #expect(before.terms == first && before.met == false)
        #expect(after.terms == second && after.met == true)
        // The same vote, 3 for and 2 against with financial implications, under each version.
        for (m, carries) in [(september, false), (november, true)] {
            let d = try r.create(.decision, edits: [.set("title", s("Fund it")), .set("meeting", s(m.rawValue)), .set("method", s("vote")),
                                                    .set("financial_implications", .bool(true))])
            for (member, vote) in [("A", "for"), ("B", "for"), ("C", "for"), ("D", "against"), ("E", "against")] { try r.vote(d, member: member, vote) }
            #expect(try r.governance().votes(of: try #require(try r.record(d))).carried == carries)
        }
    }

    // MARK: Decisions

    @Test func aVoteWithFinancialImplicationsFailsTheRequiredMajorityAlthoughMostVotedFor() throws {
        let r = try replica("board", practice: "prestatyn")
        let tor = try terms(r, agreed: "2026-04-01", quorum: "3", majority: "simple", financial: "two-thirds")
        let m = try meeting(r, date: "2026-11-20")
        let d = try r.create(.decision, edits: [
            .set("title", s("Fund the minor ailments pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote")),
            .set("financial_implications", .bool(true)), .set("amount", s("12000")), .set("outcome", s("agreed")),
        ])
        for (member, vote) in [("A", "for"), ("B", "for"), ("C", "for"), ("D", "against"), ("E", "against"), ("F", "abstain")] {
            try r.vote(d, member: member, vote)
        }
        var votes = try r.governance().votes(of: try #require(try r.record(d)))
        #expect(votes.votesFor == 3 && votes.against == 2 && votes.abstentions == 1)
        #expect(votes.terms == tor && votes.rule == .twoThirds)
        #expect(votes.carried == false)
        // Recorded as agreed, which the votes do not support: the check says so.
        #expect(votes.outcomeMatches == false)
        try r.edit(d, .set("outcome", s("rejected")))
        votes = try r.governance().votes(of: try #require(try r.record(d)))
        #expect(votes.outcomeMatches == true)
        // Without financial implications the simple majority carries the same votes.
        try r.edit(d, .set("financial_implications", .bool(false)))
        votes = try r.governance().votes(of: try #require(try r.record(d)))
        #expect(votes.rule == .simple && votes.carried == true && votes.outcomeMatches == false)
    }

    @Test func anAbstentionLinkedToADeclaredInterest() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "2")
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "Rhys Morgan", role: "member", practice: "rhyl"))
        try r.attend(m, Attendee(name: "Dr Siân Evans", role: "member", practice: "prestatyn"))
        let interest = try r.create(.declaration, edits: [
            .set("member", s("Rhys Morgan")), .set("organisation", s("Morgan Pharmacy Ltd")), .set("nature", s("pecuniary")),
            .set("date_declared", s("2026-11-20")), .set("meeting", s(m.rawValue)),
        ])
        // An interest withdrawn before the meeting is not in force.
        _ = try r.create(.declaration, edits: [
            .set("member", s("Dr Siân Evans")), .set("nature", s("non-pecuniary")),
            .set("date_declared", s("2025-01-01")), .set("date_withdrawn", s("2026-06-30")),
        ])
        let d = try r.create(.decision, edits: [
            .set("title", s("Commission pharmacy pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote")),
            .add("interests", s(interest.rawValue)), .add("abstained_for_interest", s("Rhys Morgan")),
        ])
        try r.vote(d, member: "Rhys Morgan", "abstain")
        try r.vote(d, member: "Dr Siân Evans", "for")
        try r.edit(m, .add("declarations", s(interest.rawValue)))
        #expect(try r.interestsInForce(for: m).map(\.member) == ["Rhys Morgan"])
        let forDecision = try r.interestsInForce(for: d)
        #expect(forDecision.map(\.declaration.id) == [interest])
        let view = try #require(try r.record(d))
        #expect(view.members("abstained_for_interest") == [s("Rhys Morgan")])
        #expect(try r.governance().votes(of: view).abstentions == 1)
        #expect(throws: ClusterSyncError.self) { try r.interestsInForce(for: interest) }
    }

    /// A member with several declarations in force is named once, with all of them (the scale
    /// audit: a meeting of six members with 200 declarations between them read as 190 names).
    @Test func interestsInForceNameEachMemberOnce() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "2")
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "Rhys Morgan", role: "member", practice: "rhyl"))
        try r.attend(m, Attendee(name: "Ceri Lloyd", role: "member", practice: "prestatyn"))
        func declare(_ member: String, _ organisation: String) throws -> String {
            try r.create(.declaration, edits: [
                .set("member", s(member)), .set("organisation", s(organisation)), .set("nature", s("pecuniary")), .set("date_declared", s("2026-01-05")),
            ]).rawValue
        }
        let morgan = try [declare("Rhys Morgan", "Morgan Pharmacy Ltd"), declare("rhys morgan", "Rhyl Care Home")].sorted()
        let lloyd = try declare("Ceri Lloyd", "Lloyd Optometry")
        let held = try r.governance().checks(of: try #require(try r.record(m))).first { $0.label == "interests held" }?.text
        #expect(held == "Ceri Lloyd (\(lloyd)), Rhys Morgan (\(morgan[0]); \(morgan[1]))")

        // Past three declarations, the rest are counted (the scale audit: 30 ids after a name).
        let more = try (3...6).map { try declare("Ceri Lloyd", "Lloyd Estates \($0)") } + [lloyd]
        let named = try r.governance().checks(of: try #require(try r.record(m))).first { $0.label == "interests held" }?.text
        let firstThree = try r.governance().interests(atMeeting: try #require(try r.record(m))).filter { $0.member == "Ceri Lloyd" }
            .prefix(3).map(\.declaration.id.rawValue)
        #expect(more.count == 5 && firstThree.count == 3)
        #expect(named == "Ceri Lloyd (\(firstThree.joined(separator: "; ")); and 2 more), Rhys Morgan (\(morgan[0]); \(morgan[1]))")
    }

    /// A name typed without its accents is the same person to every check, as a set already
    /// refuses "dr sian evans" beside "Dr Siân Evans" (web app audit: her vote typed so was a
    /// second voter in the tally, and her declaration typed so was no interest of hers).
    @Test func aNameTypedWithoutItsAccentsIsTheSamePerson() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "1")
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "Dr Siân Evans", role: "member", practice: "prestatyn"))
        let interest = try r.create(.declaration, edits: [
            .set("member", s("Dr Sian Evans")), .set("organisation", s("Prestatyn Late Clinic Ltd")), .set("nature", s("pecuniary")),
            .set("date_declared", s("2026-11-01")),
        ])
        let d = try r.create(.decision, edits: [
            .set("title", s("Extend opening hours")), .set("meeting", s(m.rawValue)), .set("method", s("vote")),
        ])
        try r.vote(d, member: "Dr Siân Evans", "for")
        try r.vote(d, member: "dr sian evans", "against")
        let view = try #require(try r.record(d))
        #expect(view.mapValues("votes") == ["Dr Siân Evans": s("against")])
        #expect(try r.interestsInForce(for: m).map(\.declaration.id) == [interest])
        #expect(try r.interestsInForce(for: d).map(\.declaration.id) == [interest])
    }

    /// The names a chair picks from: for attendance, the body's members in force on the
    /// meeting's date, then those recorded at its other meetings; for votes, the meeting's
    /// attendees who count, then the other members (a proxy). Each once, however typed, and
    /// none already recorded.
    @Test func attendanceAndVotesOfferTheBodysMembersByName() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "2", members: ["Rhys Morgan", "Dr Siân Evans", "Ceri Lloyd"])
        let earlier = try meeting(r, date: "2026-10-16")
        try r.attend(earlier, Attendee(name: "dr sian evans", role: "member", practice: "prestatyn"))
        try r.attend(earlier, Attendee(name: "Alun Pritchard", role: "in-attendance"))
        let other = try meeting(r, body: "leadership-team", date: "2026-10-20")
        try r.attend(other, Attendee(name: "Megan Price", role: "member", practice: "rhyl"))
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "Ceri Lloyd", role: "member", practice: "rhyl"))
        try r.attend(m, Attendee(name: "Gwen Hughes", role: "in-attendance"))

        let governance = try r.governance()
        #expect(governance.namesToOffer(attending: try #require(try r.record(m))) == ["Dr Siân Evans", "Rhys Morgan", "Alun Pritchard"])
        // A substitute replaces a member not there; a declaration may be anyone's.
        #expect(governance.namesToOffer(replacedAt: try #require(try r.record(m))) == ["Dr Siân Evans", "Rhys Morgan"])
        #expect(governance.namesToOffer == ["Ceri Lloyd", "Dr Siân Evans", "Rhys Morgan", "Alun Pritchard", "Gwen Hughes", "Megan Price"])
        let d = try r.create(.decision, edits: [.set("title", s("Commission pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        try r.vote(d, member: "rhys morgan", "for")
        #expect(try r.governance().namesToOffer(voting: try #require(try r.record(d))) == ["Ceri Lloyd", "Dr Siân Evans"])
    }

    /// One member, one vote; interests considered when deciding; a quorate meeting (guide §3.6,
    /// §3.7): what a decision's votes are checked against, in the core for every front end.
    @Test func aDecisionsVotesAreCheckedAgainstMembersInterestsAndQuorum() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "3", members: ["Rhys Morgan", "Dr Siân Evans", "Ceri Lloyd"])
        let m = try meeting(r, date: "2026-11-20")
        for name in ["Rhys Morgan", "Dr Siân Evans"] { try r.attend(m, Attendee(name: name, role: "member", practice: "rhyl")) }
        _ = try r.create(.declaration, edits: [.set("member", s("Rhys Morgan")), .set("nature", s("pecuniary")), .set("date_declared", s("2026-11-01"))])
        let d = try r.create(.decision, edits: [.set("title", s("Commission pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        try r.vote(d, member: "rhys  morgan", "for")
        try r.vote(d, member: "Dr Siân Evans", "for")
        try r.vote(d, member: "Megan Price", "against")
        var votes = try r.governance().votes(of: try #require(try r.record(d)))
        #expect(votes.votedWithInterest == ["rhys  morgan"])
        #expect(votes.nonMembers == ["Megan Price"])
        #expect(votes.meetingQuorate == false, "two of three needed")
        let checks = try r.governance().checks(of: try #require(try r.record(d)))
        #expect(checks.filter(\.needsAttention).map(\.text) == [
            "taken at a meeting that did not have its quorum",
            "voted but not recorded as attending the meeting: Megan Price",
            "voted with an interest in force and not recorded as abstaining for it: rhys  morgan",
            "voted but not a member in the terms of reference \(votes.terms!.rawValue): Megan Price",
        ])
        let derived = try r.governance().derived(try #require(try r.record(d)))
        #expect(derived["voted_with_interest"] == .array([s("rhys  morgan")]) && derived["meeting_quorate"] == .bool(false))

        // Recorded as abstaining for the interest while the vote still says `for`: the record
        // contradicts itself, and the check says so.
        try r.edit(d, .add("abstained_for_interest", s("Rhys Morgan")))
        votes = try r.governance().votes(of: try #require(try r.record(d)))
        #expect(votes.votedWithInterest.isEmpty && votes.votedDespiteAbstaining == ["rhys  morgan"])
        // His vote corrected to an abstention, a third member present: nothing to check.
        try r.vote(d, member: "rhys  morgan", "abstain")
        // The same member typed otherwise changes her vote; it adds no second voter.
        try r.vote(d, member: " MEGAN  price", "abstain")
        #expect(try r.record(d)?.mapValues("votes") == ["rhys  morgan": s("abstain"), "Dr Siân Evans": s("for"), "Megan Price": s("abstain")])
        try r.attend(m, Attendee(name: "Ceri Lloyd", role: "member", practice: "meliden"))
        votes = try r.governance().votes(of: try #require(try r.record(d)))
        #expect(votes.votedWithInterest.isEmpty && votes.votedDespiteAbstaining.isEmpty && votes.meetingQuorate == true)
        #expect(votes.nonMembers.isEmpty, "an abstention is no vote cast")
        // Abstaining for a declared interest records both, in one step, once.
        try r.vote(d, member: "Ceri Lloyd", "abstain", forInterest: true)
        try r.vote(d, member: "ceri lloyd", "abstain", forInterest: true)
        let abstaining = try #require(try r.record(d))
        #expect(abstaining.mapValues("votes")["Ceri Lloyd"] == s("abstain"))
        #expect(abstaining.members("abstained_for_interest").compactMap(\.stringValue).sorted() == ["Ceri Lloyd", "Rhys Morgan"])
        #expect(throws: ClusterSyncError.self) { try r.vote(d, member: "Ceri Lloyd", "for", forInterest: true) }
        // A meeting not yet held is not judged on its quorum.
        try r.edit(m, .set("status", s("scheduled")))
        #expect(try r.governance().votes(of: try #require(try r.record(d))).meetingQuorate == nil)
    }

    /// Guide §3.6–§3.7 and §3.10, as a chair would check them: an interest bears on the
    /// decisions its declaration names (or on all, naming none) unless a dispensation is recorded;
    /// a decision at a cancelled meeting, a sum without financial implications marked and a
    /// consensus someone voted against are each said; a meeting counts only the members its terms
    /// list, and substitutes someone agreed to.
    @Test func decisionsAndMeetingsAreCheckedAsTheGuideAsks() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "2", members: ["Rhys Morgan", "Dr Siân Evans", "Ceri Lloyd"])
        let m = try meeting(r, date: "2026-11-20")
        for name in ["Rhys Morgan", "Dr Siân Evans"] { try r.attend(m, Attendee(name: name, role: "member", practice: "rhyl")) }
        let pilot = try r.create(.decision, edits: [.set("title", s("Pharmacy pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        let spirometer = try r.create(.decision, edits: [.set("title", s("Spirometer")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        let interest = try r.create(.declaration, edits: [.set("member", s("Rhys Morgan")), .set("nature", s("pecuniary")),
                                                          .set("date_declared", s("2026-11-01")), .add("decisions", s(pilot.rawValue))])
        for d in [pilot, spirometer] { try r.vote(d, member: "Rhys Morgan", "for") }
        func votes(_ d: RecordID) throws -> GovernanceRecords.VoteCheck { try r.governance().votes(of: try #require(try r.record(d))) }
        #expect(try votes(pilot).votedWithInterest == ["Rhys Morgan"])
        #expect(try votes(spirometer).votedWithInterest.isEmpty, "the declaration names another decision")
        try r.edit(interest, .set("dispensation", s("Granted by the chair, 1 Nov 2026, to take part in the pilot decision")))
        #expect(try votes(pilot).votedWithInterest.isEmpty, "a dispensation lets him take part")

        try r.edit(spirometer, .set("amount", s("12000")), .set("method", s("consensus")))
        try r.vote(spirometer, member: "Dr Siân Evans", "against")
        #expect(try votes(spirometer).amountWithoutFinancialImplications && votes(spirometer).againstConsensus == 1)
        let texts = try r.governance().checks(of: try #require(try r.record(spirometer))).filter(\.needsAttention).map(\.text)
        #expect(texts.contains("an amount is recorded but financial implications are not marked: the majority for those may apply"))
        #expect(texts.contains("decided by consensus, but 1 voted against"))
        // A meeting dated after today is not held yet, whatever its status says (as attendance
        // counts it): no quorum or absent voters judged.
        let ahead = try meeting(r, date: "2027-01-10")
        let early = try r.create(.decision, edits: [.set("title", s("Early")), .set("meeting", s(ahead.rawValue)), .set("method", s("vote"))])
        try r.vote(early, member: "Rhys Morgan", "for")
        #expect(try votes(early).meetingQuorate == nil && votes(early).absentVoters.isEmpty)
        try r.edit(m, .set("status", s("cancelled")))
        #expect(try votes(pilot).meetingCancelled)
        #expect(try r.governance().derived(try #require(try r.record(pilot)))["meeting_cancelled"] == .bool(true))
        try r.edit(m, .set("status", s("held")))

        // Quorum 2: two listed members. A non-member recorded as a member, an unagreed
        // substitute and a name also among the apologies are said, and the first two not counted.
        try r.edit(m, .add("apologies", s("dr siân evans")))
        try r.attend(m, Attendee(name: "Joe Bloggs", role: "member", practice: "rhyl"))
        try r.attend(m, Attendee(name: "Sub A", role: "substitute", practice: "meliden"))
        var q = try r.governance().quorum(of: try #require(try r.record(m)))
        #expect(q.present == 2 && q.met == true && q.notListed == ["Joe Bloggs"] && q.unagreedSubstitutes == ["Sub A"])
        #expect(q.alsoApologies == ["Dr Siân Evans"])
        let meetingChecks = try r.governance().checks(of: try #require(try r.record(m))).filter(\.needsAttention).map(\.text)
        #expect(meetingChecks == [
            "recorded as members but not among the members the terms of reference list (not counted): Joe Bloggs",
            "substitutes not agreed before the meeting (not counted): Sub A",
            "recorded both as attending and as sending apologies: Dr Siân Evans",
        ])
        // Recorded again under the same name, an attendee is changed, not listed twice: Sub A,
        // agreed now, counts (web audit: listed twice, the quorum left him out).
        try r.attend(m, Attendee(name: "sub  a", role: "substitute", practice: "meliden", agreedBy: "the chair"))
        let subs = try #require(try r.record(m)).attendees.filter { GovernanceRecords.nameKey($0.name) == "sub a" }
        #expect(subs.count == 1 && subs.first?.agreedBy == "the chair")
        q = try r.governance().quorum(of: try #require(try r.record(m)))
        #expect(q.present == 3 && q.unagreedSubstitutes.isEmpty)
        // An agreed substitute's vote is not a non-member's.
        try r.vote(pilot, member: "sub a", "for")
        #expect(try votes(pilot).nonMembers.isEmpty)
        try r.unattend(m, name: "sub  a")
        // Agreed, the substitute counts; agreed only after the meeting, as for attendance, not.
        try r.attend(m, Attendee(name: "Sub B", role: "substitute", practice: "meliden", agreedBy: "the chair"))
        try r.attend(m, Attendee(name: "Sub C", role: "substitute", practice: "dyserth", agreedBy: "the chair",
                                 agreedOn: CalendarDate("2026-11-21")))
        q = try r.governance().quorum(of: try #require(try r.record(m)))
        #expect(q.present == 3 && q.unagreedSubstitutes == ["Sub C"])
    }

    /// A record that says something against itself is shown with a CHECK, not refused.
    @Test func recordsThatContradictThemselvesAreChecked() throws {
        let r = try replica("board", practice: "prestatyn")
        func checks(_ id: RecordID) throws -> [String] {
            try r.governance().checks(of: try #require(try r.record(id))).filter(\.needsAttention).map(\.text)
        }
        let terms = try r.create(.terms, edits: [.set("title", s("ToR")), .set("body", s("stakeholder-board")), .set("date_agreed", s("2026-01-01")),
                                                 .set("review_date", s("2025-01-01")), .set("quorum", QuorumRule.count(20).jsonValue),
                                                 .add("members", s("Dr Evans"))])
        #expect(try checks(terms) == ["the review date is before the date they were agreed", "the quorum of 20 is more than the 1 members they list"])
        let plan = try r.create(.plan, edits: [.set("title", s("Plan")), .set("period_start", s("2027-04-01")), .set("period_end", s("2026-03-31"))])
        #expect(try checks(plan) == ["the plan period ends before it starts"])
        let contribution = try r.create(.contribution, edits: [.set("contributor", s("prestatyn")), .set("year", s("2026-27")), .set("date", s("2026-09-15"))])
        #expect(try checks(contribution) == ["made on 2026-09-15, before the QAIF year 2026-27 began on 2026-10-01"])
        let declaration = try r.create(.declaration, edits: [.set("member", s("Dr Evans")), .set("date_declared", s("2026-12-01")),
                                                             .set("date_withdrawn", s("2026-01-01"))])
        #expect(try checks(declaration) == ["withdrawn before it was declared"])
        try r.edit(declaration, .set("date_withdrawn", s("2027-01-01")))
        #expect(try checks(declaration).isEmpty)
    }

    @Test func votesAreEachMembersOwnRegister() throws {
        let a = try replica("a", practice: "prestatyn")
        let b = try replica("b", practice: "rhyl")
        let d = try a.create(.decision, edits: [.set("title", s("Extend opening hours")), .set("method", s("vote"))])
        _ = try a.merge(with: b)
        // Two members vote concurrently: no conflict.
        try a.vote(d, member: "Dr A", "for")
        try b.vote(d, member: "Dr B", "against")
        _ = try a.merge(with: b)
        let merged = try #require(try a.record(d))
        #expect(merged.mapValues("votes") == ["Dr A": s("for"), "Dr B": s("against")])
        #expect(merged.conflicts.isEmpty)
        #expect(try b.record(d) == merged)
        // One member changes their vote on two laptops: that entry conflicts, the other does not.
        try a.vote(d, member: "Dr A", "against")
        try b.vote(d, member: "Dr A", "abstain")
        _ = try a.merge(with: b)
        let conflicted = try #require(try a.record(d))
        #expect(conflicted.conflicts.map(\.field) == ["votes:Dr A"])
        #expect(Set(conflicted.conflicts[0].values.map(\.value)) == [s("against"), s("abstain")])
        // Voting again settles it.
        try a.vote(d, member: "Dr A", "against")
        #expect(try a.record(d)?.conflicts.isEmpty == true)
    }

    /// A vote recorded for someone who did not vote is withdrawn: out of the tally and of the
    /// proxy and interest sets, kept in history, and in conflict with a vote made meanwhile.
    @Test func aVoteRecordedByMistakeIsWithdrawn() throws {
        let a = try replica("a", practice: "prestatyn")
        let b = try replica("b", practice: "rhyl")
        let d = try a.create(.decision, edits: [.set("title", s("Extend opening hours")), .set("method", s("vote"))])
        try a.vote(d, member: "Dr A", "for")
        try a.vote(d, member: "Megan Price", "against", byProxy: true)
        try a.vote(d, member: "Ceri Lloyd", "abstain", forInterest: true)
        let changes = try a.withdrawVote(d, member: " megan  PRICE")
        try a.withdrawVote(d, member: "ceri lloyd")
        #expect(Set(changes.map(\.field)) == ["votes:Megan Price", "voted_by_proxy"])
        var view = try #require(try a.record(d))
        #expect(view.mapValues("votes") == ["Dr A": s("for")])
        #expect(view.members("voted_by_proxy").isEmpty && view.members("abstained_for_interest").isEmpty)
        #expect(try a.governance().votes(of: view).votesFor == 1 && (try a.governance().votes(of: view).against) == 0)
        #expect(try a.history(of: d).contains { $0.field == "votes:Megan Price" && $0.value == s("against") })
        // Nothing to withdraw is said, naming who did vote; a vote is never recorded as nothing.
        #expect { try a.withdrawVote(d, member: "Megan Price") } throws: {
            ($0 as? ClusterSyncError)?.message == "\(d) has no vote recorded for Megan Price; its votes are by Dr A"
        }
        #expect(throws: ClusterSyncError.self) { try a.vote(d, member: "Dr A", "") }
        // Voting again writes the member's own entry, not a second one.
        try a.vote(d, member: "megan price", "for")
        view = try #require(try a.record(d))
        #expect(view.entries(ofMap: "votes").map(\.key) == ["Ceri Lloyd", "Dr A", "Megan Price"])
        #expect(view.mapValues("votes") == ["Dr A": s("for"), "Megan Price": s("for")])
        // Withdrawn on one laptop while changed on another: a conflict, as any two writes.
        _ = try a.merge(with: b)
        try a.withdrawVote(d, member: "Dr A")
        try b.vote(d, member: "Dr A", "against")
        _ = try a.merge(with: b)
        let conflicted = try #require(try a.record(d))
        #expect(conflicted.conflicts.map(\.field) == ["votes:Dr A"])
        #expect(Set(conflicted.conflicts[0].values.map(\.value)) == [FieldMap.withdrawn, s("against")])
        #expect(try b.record(d) == conflicted)
    }

    /// Guide §3.10: the terms set "voting rights, including voting rights of proxies", and a
    /// chair's casting vote breaks a tie where the terms give one; a substitute stands in for
    /// one member, never beside them.
    @Test func proxiesCastingVotesAndSubstitutesAreCheckedAgainstTheTerms() throws {
        let r = try replica("board", practice: "prestatyn")
        let tor = try terms(r, agreed: "2026-04-01", quorum: "2", members: ["A", "B", "C", "D"])
        let m = try meeting(r, date: "2026-11-20")
        for name in ["A", "B"] { try r.attend(m, Attendee(name: name, role: "member")) }
        try r.attend(m, Attendee.typed(name: "Sub", role: "substitute", replaces: "C", agreedBy: "the chair"))
        let d = try r.create(.decision, edits: [.set("title", s("Pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        func votes() throws -> GovernanceRecords.VoteCheck { try r.governance().votes(of: try #require(try r.record(d))) }
        func attention() throws -> [String] { try r.governance().checks(of: try #require(try r.record(d))).filter(\.needsAttention).map(\.text) }

        // D is absent and votes through a proxy: not an absent voter, but the terms do not
        // allow proxy votes yet.
        try r.vote(d, member: "A", "for")
        try r.vote(d, member: "Sub", "against")
        try r.vote(d, member: "d", "for", byProxy: true)
        try r.vote(d, member: "B", "against")
        var v = try votes()
        #expect(v.absentVoters.isEmpty && v.proxyNotAllowed == ["d"] && v.votesFor == 2 && v.against == 2)
        #expect(try attention().contains("voted by proxy, which the terms of reference \(tor) are not recorded as allowing (proxy votes: yes if they do): d"))
        try r.edit(tor, .set("proxy_votes", .bool(true)))
        #expect(try votes().proxyNotAllowed.isEmpty)
        // Recorded again without the proxy, the vote was cast in person: an absent voter again,
        // and the front ends are told so.
        #expect(Replica.nowCastInPerson(try r.vote(d, member: "D", "for")))
        v = try votes()
        #expect(try r.record(d)?.members("voted_by_proxy") == [] && v.absentVoters == ["d"])
        try r.vote(d, member: "D", "for", byProxy: true)
        #expect(try r.record(d)?.members("voted_by_proxy") == [s("d")], "one entry, under the name the vote has")

        // 2 for, 2 against under a simple majority: a tie does not carry.
        try r.edit(d, .set("outcome", s("agreed")))
        v = try votes()
        #expect(v.carried == false && v.outcomeMatches == false && !v.tieAwaitsCastingVote)
        // A casting vote the terms do not give the chair is not counted.
        try r.edit(d, .set("casting_vote", s("for")))
        v = try votes()
        #expect(v.carried == false && v.castingVote == nil)
        #expect(v.castingVoteNotCounted == "the terms of reference \(tor) are not recorded as giving the chair a casting vote")
        // Given one, it breaks the tie, and the tally says so.
        try r.edit(tor, .set("chair_casting_vote", .bool(true)))
        v = try votes()
        #expect(v.carried == true && v.outcomeMatches == true && v.castingVote == "for" && v.castingVoteNotCounted == nil)
        let tally = try r.governance().checks(of: try #require(try r.record(d))).first { $0.label == "tally" }?.text
        #expect(tally == "2 for, 2 against, 0 abstaining; the chair's casting vote for")
        #expect(try r.governance().derived(try #require(try r.record(d)))["casting_vote_counted"] == s("for"))
        // The chair lets the tie stand: the motion falls; nothing awaits.
        try r.edit(d, .set("casting_vote", s("not-used")), .set("outcome", s("rejected")))
        v = try votes()
        #expect(v.carried == false && v.outcomeMatches == true && v.castingVote == "not-used" && !v.tieAwaitsCastingVote)
        // Not a tie: a casting vote is not counted; under two-thirds a tie never is.
        try r.edit(d, .set("casting_vote", s("against")))
        try r.vote(d, member: "B", "for")
        #expect(try votes().castingVoteNotCounted == "the votes do not tie" && votes().carried == true)
        try r.vote(d, member: "B", "against")
        try r.edit(d, .set("financial_implications", .bool(true)))
        #expect(try votes().castingVoteNotCounted == "a casting vote breaks a tie under a simple majority, and this decision needs a two-thirds majority")
        // A tie where the chair has a casting vote and none is recorded waits on it.
        try r.edit(d, .set("financial_implications", .bool(false)))
        let fresh = try r.create(.decision, edits: [.set("title", s("Tie")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        try r.vote(fresh, member: "A", "for")
        try r.vote(fresh, member: "B", "against")
        #expect(try r.governance().votes(of: try #require(try r.record(fresh))).tieAwaitsCastingVote)
        #expect(try r.governance().checks(of: try #require(try r.record(fresh))).map(\.text)
            .contains("the votes tie and the terms of reference \(tor) give the chair a casting vote: record whether the chair used it (for, against or not used)"))

        // The substitute for C counts for the quorum; C arriving too, the substitute does not,
        // and a substitute and the member both voting is said.
        #expect(try r.governance().quorum(of: try #require(try r.record(m))).present == 3)
        try r.attend(m, Attendee(name: "C", role: "member"))
        let q = try r.governance().quorum(of: try #require(try r.record(m)))
        #expect(q.present == 3 && q.substitutesBesideMember == ["Sub (for C)"])
        try r.vote(d, member: "C", "for")
        #expect(try votes().substituteAndMemberVoted == ["Sub (for C)"])
        #expect(try attention().contains("a substitute and the member they replace both voted: Sub (for C)"))
        // A substitute for someone the terms do not list does not count.
        try r.attend(m, Attendee.typed(name: "Sub 2", role: "substitute", replaces: "Zed", agreedBy: "the chair"))
        #expect(try r.governance().quorum(of: try #require(try r.record(m))).substitutesForNonMembers == ["Sub 2 (for Zed)"])
        // Only a substitute replaces anyone, and never themselves: refused, naming the key.
        for attendee in [Attendee(name: "E", role: "member", replaces: "A"), Attendee(name: "F", role: "substitute", replaces: " f ")] {
            #expect { try r.attend(m, attendee) } throws: { ($0 as? ClusterSyncError)?.message.contains("replace") == true }
        }
    }

    /// What a review of the above found a chair could record and no check would say: seats a
    /// substitute does not hold, a proxy with no terms to judge it, a casting vote where there
    /// is nothing to break.
    @Test func substitutesSeatsProxiesWithoutTermsAndCastingVotesWithNothingToBreak() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "3", members: ["Ann A", "Bob B", "Cat C", "Dan D"])
        let m = try meeting(r, date: "2026-11-20")
        try r.attend(m, Attendee(name: "Ann A", role: "member"))
        try r.attend(m, Attendee(name: "Bob B", role: "member"))
        // Two substitutes for Dan: the first by name holds the seat; one for a non-member, and
        // one for Ann, who is here, hold none.
        for (name, replaces) in [("Sub One", "Dan D"), ("Sub Two", "dan  d"), ("Zoe Z", "Not A Member"), ("Yas Y", "Ann A")] {
            try r.attend(m, Attendee.typed(name: name, role: "substitute", replaces: replaces, agreedBy: "BCUHB"))
        }
        let q = try r.governance().quorum(of: try #require(try r.record(m)))
        #expect(q.present == 3 && q.substitutesForTakenSeats == ["Sub Two (for dan  d)"])
        #expect(q.substitutesBesideMember == ["Yas Y (for Ann A)"] && q.substitutesForNonMembers == ["Zoe Z (for Not A Member)"])
        #expect(q.seatedSubstitutes == ["Sub One"])
        // Those without a seat vote as non-members, however agreed.
        let d = try r.create(.decision, edits: [.set("title", s("Pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        for name in ["Sub One", "Sub Two", "Zoe Z", "Yas Y"] { try r.vote(d, member: name, "for") }
        #expect(try r.governance().votes(of: try #require(try r.record(d))).nonMembers == ["Sub Two", "Yas Y", "Zoe Z"])

        // Substitutes standing in for each other, where the terms list no members: neither counts.
        _ = try terms(r, body: "leadership-team", agreed: "2026-04-01", quorum: "2")
        let team = try meeting(r, body: "leadership-team", date: "2026-11-21")
        try r.attend(team, Attendee(name: "Ann A", role: "member"))
        try r.attend(team, Attendee.typed(name: "Sub A", role: "substitute", replaces: "Sub B", agreedBy: "chair"))
        try r.attend(team, Attendee.typed(name: "Sub B", role: "substitute", replaces: "Sub A", agreedBy: "chair"))
        let teamQuorum = try r.governance().quorum(of: try #require(try r.record(team)))
        #expect(teamQuorum.present == 1 && teamQuorum.met == false && teamQuorum.substitutesBesideMember == ["Sub A (for Sub B)", "Sub B (for Sub A)"])

        // With no terms in force, a proxy's vote is an absent member's, and a casting vote is
        // not counted, saying why.
        let other = try meeting(r, body: "staffing-group", date: "2026-11-20")
        try r.attend(other, Attendee(name: "Yan Y", role: "member"))
        let loose = try r.create(.decision, edits: [.set("title", s("Rota")), .set("meeting", s(other.rawValue)), .set("method", s("vote")),
                                                    .set("casting_vote", s("for"))])
        try r.vote(loose, member: "Zed Z", "for", byProxy: true)
        let v = try r.governance().votes(of: try #require(try r.record(loose)))
        #expect(v.absentVoters == ["Zed Z"] && v.proxyNotAllowed.isEmpty)
        #expect(v.castingVoteNotCounted == "no terms of reference for staffing-group in force on 2026-11-20 say whether the chair has one")

        // Everyone abstaining: nothing to break; by consensus: no vote to break.
        let board = try terms(r, body: "gp-collaborative", agreed: "2026-04-01", quorum: "1")
        try r.edit(board, .set("chair_casting_vote", .bool(true)))
        let gp = try meeting(r, body: "gp-collaborative", date: "2026-11-20")
        let abstained = try r.create(.decision, edits: [.set("title", s("A")), .set("meeting", s(gp.rawValue)), .set("method", s("vote")),
                                                        .set("casting_vote", s("for"))])
        try r.vote(abstained, member: "Ann A", "abstain")
        #expect(try r.governance().votes(of: try #require(try r.record(abstained))).castingVoteNotCounted == "no votes were cast for or against")
        try r.edit(abstained, .set("method", s("consensus")))
        #expect(try r.governance().votes(of: try #require(try r.record(abstained))).castingVoteNotCounted
            == "the decision is not recorded as taken by a vote")

        // `replaces` holds a name: no line breaks, no blank, no spaces at either end.
        for bad in ["   ", "Cat C\n  quorum   met: 9 of 3 needed", " Cat C"] {
            #expect { try r.attend(m, Attendee(name: "Sub X", role: "substitute", replaces: bad)) } throws: {
                ($0 as? ClusterSyncError)?.message.contains("replaces must be the member's name") == true
            }
        }
    }

    // MARK: Attendance (CND014W)

    func gpMeeting(_ r: Replica, _ date: String, status: String = "held", attendees: [Attendee]) throws -> RecordID {
        let m = try meeting(r, body: "gp-collaborative", date: date, status: status)
        for a in attendees { try r.attend(m, a) }
        return m
    }

    /// A practice's id is written one way: "Rhyl" beside "rhyl" split the practice's attendance
    /// in two, and "Prestatyn Medical" in the terms listed a practice that never attends (web
    /// app audit, forty-third session). Refused where it is typed, naming the id in use.
    @Test func aPracticeIDWrittenOtherwiseIsRefusedNamingTheOneInUse() throws {
        let r = try replica("lead", practice: "prestatyn", today: fixedToday)
        let m = try gpMeeting(r, "2026-11-10", attendees: [Attendee(name: "Dr Jones", role: "member", practice: "rhyl")])
        let before = try r.allChanges()
        for (attendee, named) in [(Attendee(name: "Dr Gareth Jones", role: "member", practice: "Rhyl"), "\"Rhyl\" is written \"rhyl\""),
                                  (Attendee(name: "Dr Evans", role: "member", practice: "PRESTATYN"), "is written \"prestatyn\""),
                                  (Attendee(name: "Dr Lloyd", role: "buddy", practice: "rhyl", represents: "Rhyl", agreedBy: "BCUHB"), "use rhyl")] {
            let error = #expect(throws: ClusterSyncError.self) { try r.attend(m, attendee) }
            #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
        }
        let terms = { (practice: String) in
            try r.create(.terms, edits: [.set("title", s("GP Collaborative ToR")), .set("body", s("gp-collaborative")),
                                         .set("date_agreed", s("2026-04-01")), .add("practices", s(practice))])
        }
        var error = #expect(throws: ClusterSyncError.self) { _ = try terms("Prestatyn Medical") }
        #expect(error?.message.contains("practices must be a practice's id") == true && error?.field == "practices", "\(error?.message ?? "")")
        error = #expect(throws: ClusterSyncError.self) { _ = try terms("RHYL") }
        #expect(error?.message.contains("use rhyl") == true, "\(error?.message ?? "")")
        error = #expect(throws: ClusterSyncError.self) {
            _ = try r.create(.contribution, edits: [.set("contributor", s("Rhyl")), .set("year", s("2026-27"))])
        }
        #expect(error?.field == "contributor", "\(error?.message ?? "")")
        // A practice new to the cluster written two ways in one batch (an import): the second
        // is refused, though the first is not in the file yet.
        error = #expect(throws: ClusterSyncError.self) {
            _ = try r.edit([(m, .add("attendees", Attendee(name: "Dr Roberts", role: "member", practice: "dyserth").jsonValue)),
                            (m, .add("attendees", Attendee(name: "Dr Price", role: "member", practice: "Dyserth").jsonValue))])
        }
        #expect(error?.message.contains("\"Dyserth\" is written \"dyserth\"") == true, "\(error?.message ?? "")")
        #expect(try r.allChanges() == before, "nothing was written")
        // One written, taken out and written otherwise in one batch: nothing names the first now.
        let llay = Attendee(name: "Dr Roberts", role: "member", practice: "llay").jsonValue
        _ = try r.edit([(m, .add("attendees", llay)), (m, .remove("attendees", llay)),
                        (m, .add("attendees", Attendee(name: "Dr Roberts", role: "member", practice: "Llay").jsonValue))])
        #expect(try r.record(m)?.attendees.compactMap(\.practice).contains("Llay") == true)
        // As written, and a practice new to the cluster, are taken.
        try r.attend(m, Attendee(name: "Dr Evans", role: "member", practice: "prestatyn"))
        try r.attend(m, Attendee(name: "Mrs Hughes", role: "member", practice: "meliden"))
        _ = try terms("rhyl")
    }

    @Test func attendanceAcrossAQAIFYearBoundary() throws {
        let r = try replica("lead", practice: "prestatyn", today: fixedToday)  // 2026-11-23
        _ = try r.create(.terms, edits: [
            .set("title", s("GP Collaborative ToR")), .set("body", s("gp-collaborative")), .set("date_agreed", s("2025-04-01")),
            .add("practices", s("prestatyn")), .add("practices", s("rhyl")), .add("practices", s("meliden")), .add("practices", s("dyserth")),
        ])
        let prestatyn = Attendee(name: "Dr Evans", role: "member", practice: "prestatyn")
        let rhyl = Attendee(name: "Dr Jones", role: "member", practice: "rhyl")
        // 2025-26 (October 2025 to September 2026): two meetings, the second on 30 September,
        // the last day of the QAIF cycle.
        _ = try gpMeeting(r, "2026-01-15", attendees: [prestatyn, rhyl])
        _ = try gpMeeting(r, "2026-09-30", attendees: [prestatyn])
        // 2026-27: from 1 October.
        _ = try gpMeeting(r, "2026-10-01", attendees: [prestatyn, rhyl,
            Attendee(name: "Mrs Hughes", role: "substitute", practice: "meliden", agreedBy: "BCUHB")])
        _ = try gpMeeting(r, "2026-10-20", attendees: [prestatyn,
            Attendee(name: "Mr Price", role: "substitute", practice: "meliden")])  // not agreed in advance
        _ = try gpMeeting(r, "2026-11-10", attendees: [prestatyn,
            Attendee(name: "Dr Jones", role: "buddy", practice: "rhyl", represents: "dyserth", agreedBy: "BCUHB")])
        _ = try gpMeeting(r, "2026-11-16", status: "cancelled", attendees: [prestatyn])
        _ = try gpMeeting(r, "2027-01-14", status: "scheduled", attendees: [])
        // Dated after today but marked held (a slip of the status, or attendance typed ahead):
        // not held yet, so it is left to come and its attendance does not count.
        _ = try gpMeeting(r, "2027-02-11", status: "held", attendees: [rhyl])
        _ = try gpMeeting(r, "2027-10-07", status: "scheduled", attendees: [])  // next year

        let report = try r.attendance(year: QAIFYear("2026-27"))
        #expect(report.held.count == 3 && report.left.count == 2)
        func row(_ p: String) -> AttendanceReport.Row? { report.practices.first { $0.practice == p } }
        #expect(report.practices.map(\.practice) == ["dyserth", "meliden", "prestatyn", "rhyl"])
        #expect(row("prestatyn")?.attended.count == 3 && row("prestatyn")?.status == .canReach)
        #expect(row("rhyl")?.attended.count == 2 && row("rhyl")?.status == .canReach, "two attended, two meetings to come")
        #expect(row("meliden")?.attended.count == 1 && row("meliden")?.status == .cannotReach)
        #expect(row("meliden")?.notCounted.map(\.reason) == ["substitute not agreed in advance"])
        #expect(row("dyserth")?.attended.count == 1)

        let last = try r.attendance(year: QAIFYear("2025-26"))
        #expect(last.held.count == 2 && last.left.isEmpty)
        #expect(last.practices.first { $0.practice == "prestatyn" }?.attended.count == 2)
        #expect(last.practices.allSatisfy { $0.status == .cannotReach })

        // The default year is the one containing today.
        #expect(try r.attendance().year == QAIFYear(startYear: 2026))
        #expect(QAIFYear(containing: CalendarDate(year: 2026, month: 9, day: 30)) == QAIFYear(startYear: 2025))
        #expect(QAIFYear("2026-27")?.contributionDeadline == CalendarDate(year: 2027, month: 9, day: 30))
        #expect(FinancialYear(containing: CalendarDate(year: 2026, month: 9, day: 30)) == FinancialYear(startYear: 2026))
        #expect(FinancialYear("2026-27")?.last == CalendarDate(year: 2027, month: 3, day: 31))
    }

    /// A substitute counts only when agreed in advance: an agreement recorded after the meeting
    /// does not count, one on the day or before does (and one with no day recorded, as before).
    @Test func aSubstituteAgreedAfterTheMeetingDoesNotCount() throws {
        let r = try replica("lead", practice: "prestatyn", today: fixedToday)
        let m = try gpMeeting(r, "2026-11-10", attendees: [
            Attendee(name: "Mrs Hughes", role: "substitute", practice: "meliden", agreedBy: "BCUHB", agreedOn: CalendarDate("2026-11-12")),
            Attendee(name: "Dr Price", role: "substitute", practice: "dyserth", agreedBy: "BCUHB", agreedOn: CalendarDate("2026-11-10")),
            Attendee(name: "Dr Jones", role: "buddy", practice: "rhyl", represents: "rhuddlan", agreedBy: "BCUHB", agreedOn: CalendarDate("2026-12-01")),
        ])
        let report = try r.attendance(year: QAIFYear("2026-27"))
        func row(_ p: String) -> AttendanceReport.Row? { report.practices.first { $0.practice == p } }
        #expect(row("meliden")?.attended.isEmpty == true)
        #expect(row("meliden")?.notCounted.map(\.reason) == ["substitute agreed after the meeting (2026-11-12)"])
        #expect(row("dyserth")?.attended.count == 1)
        #expect(row("rhyl")?.attended.count == 1 && row("rhuddlan")?.attended.isEmpty == true)
        #expect(row("rhuddlan")?.notCounted.map(\.reason) == ["buddying agreed after the meeting (2026-12-01)"])
        // A day without who agreed it is refused: the day says when someone agreed.
        let error = #expect(throws: ClusterSyncError.self) {
            try r.attend(m, Attendee(name: "X", role: "substitute", practice: "meliden", agreedOn: CalendarDate("2026-11-01")))
        }
        #expect(error?.message.contains("agreed_on needs agreed_by") == true, "\(String(describing: error))")

        // As typed in the CLI or the web app's form: trimmed, empty answers not given, dates as typed.
        let typed = try Attendee.typed(name: " Mrs Hughes ", role: "substitute", practice: "meliden", represents: "",
                                       agreedBy: " BCUHB ", agreedOn: "14/11/2026")
        #expect(typed == Attendee(name: "Mrs Hughes", role: "substitute", practice: "meliden", agreedBy: "BCUHB",
                                  agreedOn: CalendarDate(year: 2026, month: 11, day: 14)))
        let unreadable = #expect(throws: ClusterSyncError.self) {
            try Attendee.typed(name: "X", role: "substitute", agreedBy: "BCUHB", agreedOn: "32/13/2026")
        }
        #expect(unreadable?.field == "agreed_on" && unreadable?.message.contains("got 32/13/2026") == true, "\(String(describing: unreadable))")
    }

    /// Seed 003: a practice is represented by a clinician; a senior administrator or a practice
    /// manager only by an arrangement agreed with the Health Board before the meeting.
    @Test func aPracticeManagerCountsOnlyWhenAgreedInAdvance() throws {
        let r = try replica("lead", practice: "prestatyn", today: fixedToday)
        let m = try gpMeeting(r, "2026-11-10", attendees: [
            Attendee(name: "Dr Evans", role: "member", capacity: "clinician", practice: "prestatyn"),
            Attendee(name: "Mr Roberts", role: "member", capacity: "senior-administrator", practice: "rhyl"),
            Attendee(name: "Ms Price", role: "member", capacity: "senior-administrator", practice: "prestatyn"),
            Attendee(name: "Mr Jones", role: "member", capacity: "senior-administrator", practice: "meliden", agreedBy: "BCUHB"),
            Attendee(name: "Mrs Hughes", role: "member", capacity: "practice-manager", practice: "meliden"),
            Attendee(name: "Ms Ellis", role: "member", capacity: "practice-manager", practice: "dyserth", agreedBy: "BCUHB",
                     agreedOn: CalendarDate("2026-11-01")),
            Attendee(name: "Mr Owen", role: "buddy", capacity: "practice-manager", practice: "rhuddlan", represents: "bodelwyddan",
                     agreedBy: "BCUHB"),
        ])
        let report = try r.attendance(year: QAIFYear("2026-27"))
        func row(_ p: String) -> AttendanceReport.Row? { report.practices.first { $0.practice == p } }
        #expect(row("prestatyn")?.attended == [m] && row("dyserth")?.attended == [m])
        // A senior administrator alone counts only when agreed ("may also attend"); beside a
        // clinician of the practice, the clinician counts.
        #expect(row("rhyl")?.attended.isEmpty == true)
        #expect(row("rhyl")?.notCounted.map(\.reason) == ["senior administrator not agreed in advance"])
        #expect(row("meliden")?.attended == [m], "Mr Jones was agreed; Mrs Hughes, a practice manager, was not")
        // The buddying was agreed, and so counts for both practices.
        #expect(row("rhuddlan")?.attended == [m] && row("bodelwyddan")?.attended == [m])

        let view = try #require(try r.record(m))
        #expect(view.attendees.first { $0.name == "Mrs Hughes" }?.text == "Mrs Hughes (member, practice manager, meliden)")
        let unknown = #expect(throws: ClusterSyncError.self) {
            try r.attend(m, Attendee(name: "X", role: "member", capacity: "receptionist", practice: "meliden"))
        }
        #expect(unknown?.message.contains("capacity must be one of clinician, senior-administrator, practice-manager") == true,
                "\(String(describing: unknown))")
        #expect(try Attendee.typed(name: "Y", role: "member", capacity: " ", practice: "rhyl").capacity == nil)
    }

    @Test func twoPracticesRecordAttendanceConcurrently() throws {
        let a = try replica("a", practice: "prestatyn")
        let b = try replica("b", practice: "rhyl")
        let m = try meeting(a, body: "gp-collaborative", date: "2026-11-20")
        _ = try a.merge(with: b)
        try a.attend(m, Attendee(name: "Dr Evans", role: "member", practice: "prestatyn"))
        try b.attend(m, Attendee(name: "Dr Jones", role: "member", practice: "rhyl"))
        _ = try a.merge(with: b)
        for r in [a, b] {
            let view = try #require(try r.record(m))
            #expect(view.attendees.map(\.practice) == ["prestatyn", "rhyl"])
            #expect(view.conflicts.isEmpty)
            #expect(try r.attendance().practices.map(\.attended.count) == [1, 1])
        }
    }

    // MARK: Local edit rules

    @Test func linksMustNameARecordHeldHere() throws {
        let r = try replica("a", practice: "prestatyn")
        try r.rememberRole(.clusterLead, region: nil) // it deletes a shared action
        let risk = try r.create(.risk, edits: [.set("title", s("Locum cover"))])
        let error = #expect(throws: ClusterSyncError.self) {
            try r.edit(risk, .add("linked_actions", s("ACT-4F8R2M6W0Z")))
        }
        #expect(error?.code == .unknownRecord && error?.field == "linked_actions")
        #expect(throws: ClusterSyncError.self) {
            try r.create(.action, edits: [.set("title", s("Advertise")), .set("source", s("RSK-7K3M9Q2X1A"))])
        }
        #expect(try r.records(.action).isEmpty, "a refused create writes nothing")
        let action = try r.create(.action, edits: [.set("title", s("Advertise")), .set("source", s(risk.rawValue))])
        try r.edit(risk, .add("linked_actions", s(action.rawValue)))
        // A deleted record cannot be linked; a private record cannot be linked from a shared one.
        try r.edit(action, .delete)
        #expect((#expect(throws: ClusterSyncError.self) { try r.edit(risk, .add("linked_actions", s(action.rawValue))) })?.code == .recordDeleted)
        let privateAction = try r.create(.action, private: true, edits: [.set("title", s("Practice rota"))])
        #expect((#expect(throws: ClusterSyncError.self) { try r.edit(risk, .add("linked_actions", s(privateAction.rawValue))) })?.code == .forbiddenScope)

        // A change from elsewhere may arrive before its target: it is applied.
        let other = try replica("b", practice: "rhyl")
        let b = try other.create(.risk, edits: [.set("title", s("Estates"))])
        let dangling = Change(id: ChangeID(replica: try other.identity().replicaID, counter: 99), hlc: HLCTimestamp(millis: 1_795_000_000_000, logical: 0),
                              record: b, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"), field: "linked_actions",
                              value: s("ACT-4F8R2M6W0Z"))
        try r.apply(try other.allChanges() + [dangling], origin: .peer)
        #expect(try r.record(b)?.members("linked_actions") == [s("ACT-4F8R2M6W0Z")])
    }

    @Test func anEmptyTitleIsRefused() throws {
        let r = try replica("a", practice: "prestatyn")
        for type in [RecordType.risk, .action, .list, .meeting, .decision, .terms, .plan] {
            let error = #expect(throws: ClusterSyncError.self) { try r.create(type, edits: [.set("title", s(" "))]) }
            #expect(error?.field == "title", "\(type)")
        }
        #expect(throws: ClusterSyncError.self) { try r.create(.declaration, edits: [.set("member", s(""))]) }
        let risk = try r.create(.risk, edits: [.set("title", s("Locum cover")), .set("description", s(""))])
        #expect(throws: ClusterSyncError.self) { try r.edit(risk, .set("title", s(""))) }
    }

    @Test func completingAnActionFillsItsCompletedDate() throws {
        let r = try replica("a", practice: "prestatyn")
        try r.rememberRole(.clusterLead, region: nil) // it closes a shared action
        let a = try r.create(.action, edits: [.set("title", s("Advertise")), .set("status", s("in-progress"))])
        try r.edit(a, .set("status", s("complete")))
        #expect(try r.record(a)?.string("completed_date") == fixedToday.description)
        // Given in the same edit, the date is kept as given.
        let b = try r.create(.action, edits: [.set("title", s("Interview")), .set("status", s("complete")), .set("completed_date", s("2026-11-01"))])
        #expect(try r.record(b)?.string("completed_date") == "2026-11-01")
        // Closing a completed action keeps its completed date.
        try r.edit(b, .set("status", s("closed")))
        #expect(try r.record(b)?.string("completed_date") == "2026-11-01")
        // Reopened, it is not completed: the date goes, and history keeps it.
        try r.edit(a, .set("status", s("in-progress")))
        #expect(try r.record(a)?.string("completed_date") == nil)
        #expect(try r.record(a)?.writes["completed_date"]?.map(\.value) == [RecordView.emptiedDate])
        // Reopened with a date given in the same edit, the date is kept as given; moved from one
        // open status to another, nothing is written.
        try r.edit(b, .set("status", s("in-progress")), .set("completed_date", s("2026-11-02")))
        #expect(try r.record(b)?.string("completed_date") == "2026-11-02")
        let before = try r.record(a)?.writes["completed_date"]
        try r.edit(a, .set("status", s("not-started")))
        #expect(try r.record(a)?.writes["completed_date"] == before)
    }

    /// A completion date is a day that has come (a day's grace for the hour Wales is ahead of
    /// UTC in summer); refused beyond it, naming the field, with nothing written.
    @Test func anActionIsNotCompletedOnADayToCome() throws {
        let r = try replica("a", practice: "prestatyn")
        let a = try r.create(.action, edits: [.set("title", s("Advertise"))])
        let history = try r.history(of: a).count
        for day in ["2026-12-23", "2026-11-25"] {
            let error = try #require(throws: ClusterSyncError.self) { try r.edit(a, .set("completed_date", s(day))) }
            #expect(error.code == .invalidValue && error.field == "completed_date", "\(error)")
            #expect(error.message.contains("today is 2026-11-23") && error.message.contains("got \(day)"), "\(error.message)")
        }
        #expect(throws: ClusterSyncError.self) {
            try r.create(.action, edits: [.set("title", s("Interview")), .set("completed_date", s("2027-01-01"))])
        }
        #expect(try r.history(of: a).count == history)
        try r.edit(a, .set("completed_date", s("2026-11-24")))
        #expect(try r.record(a)?.string("completed_date") == "2026-11-24")
        // A value the field holds already (a conflict settled by keeping one side) is kept.
        #expect(throws: Never.self) {
            try LocalEditRules.checkCompletionDate(of: a, field: "completed_date", to: s("2026-12-23"), today: fixedToday, held: [s("2026-12-23")])
        }
    }

    /// An abstention for an interest with no declaration in force is questioned: the register
    /// of interests lacks it, or the abstention names the wrong person (chair's audit).
    @Test func anAbstentionForAnInterestNobodyDeclaredIsQuestioned() throws {
        let r = try replica("board", practice: "prestatyn")
        _ = try terms(r, agreed: "2026-04-01", quorum: "1")
        let m = try meeting(r, date: "2026-11-20")
        _ = try r.create(.declaration, edits: [.set("member", s("Rhys Morgan")), .set("nature", s("pecuniary")), .set("date_declared", s("2026-11-01"))])
        let d = try r.create(.decision, edits: [.set("title", s("Commission pilot")), .set("meeting", s(m.rawValue)), .set("method", s("vote"))])
        _ = try r.vote(d, member: "rhys morgan", "abstain", forInterest: true)
        _ = try r.vote(d, member: "Ceri Lloyd", "abstain", forInterest: true)
        let view = try #require(try r.record(d))
        #expect(try r.governance().votes(of: view).abstainedWithoutDeclaration == ["Ceri Lloyd"])
        #expect(try r.governance().checks(of: view).filter(\.needsAttention).map(\.text).contains(
            "recorded as abstaining for an interest with no declaration of interest in force: Ceri Lloyd (record the declaration, or correct the abstention)"))
    }
}
