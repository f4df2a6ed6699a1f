/// The governance records (guide §3.2 to §3.11, §6.2; QAIF CND014W to CND016W): meetings,
/// decisions, declarations of interest, terms of reference, the cluster plan and practices'
/// contributions to it. Documented in Protocol/changes.md §7.
extension RecordSchema {
    /// The guide's levels of decision-making (§6.4: the Cluster Staffing Group, the Stakeholder
    /// Board, a Leadership Team), the Professional Collaboratives (seed 003) and the community
    /// nursing and allied health collaboratives of the cluster's core (seed 002), the PCPG.
    public static let bodies = [
        "stakeholder-board", "leadership-team", "staffing-group", "gp-collaborative", "pharmacy-collaborative",
        "dental-collaborative", "optometry-collaborative", "community-nursing-collaborative", "allied-health-collaborative",
        "pcpg", "other",
    ]
    public static let meetingStatuses = ["scheduled", "held", "cancelled"]
    /// member: a member of the body (for a GP practice, a clinical partner or senior clinician);
    /// substitute: an approved substitute; buddy: a practice representing another by a buddying
    /// arrangement; in-attendance: present without being a member (officers, observers).
    public static let attendeeRoles = ["member", "substitute", "buddy", "in-attendance"]
    /// The capacity a GP practice's attendee comes in (seed 003, CND014W): a clinician (a
    /// clinical partner or other senior practice-employed clinician) or a senior administrator
    /// represents the practice; a practice manager only by an arrangement agreed in advance with
    /// the Health Board (for a small or single-handed practice).
    public static let attendeeCapacities = ["clinician", "senior-administrator", "practice-manager"]
    public static let decisionMethods = ["consensus", "vote"]
    public static let voteChoices = ["for", "against", "abstain"]
    /// A chair's casting vote breaks a tie one way or the other; `not-used`: the chair let the
    /// tie stand, and the motion falls (a choice is changed, never emptied: this is how a
    /// casting vote recorded by mistake is taken back).
    public static let castingVotes = ["for", "against", "not-used"]
    public static let decisionOutcomes = ["agreed", "rejected", "deferred"]
    public static let interestNatures = ["pecuniary", "non-pecuniary", "close-associate", "other"]
    /// Majorities over the votes cast (for + against; abstentions are not votes cast).
    public static let majorityRules = ["simple", "two-thirds", "three-quarters", "unanimous"]
    public static let planStatuses = ["draft", "agreed", "in-progress", "complete", "superseded"]

    public static let meeting = RecordSchema(type: .meeting, fields: [
        FieldSpec("title", shortText, "what the meeting is (e.g. Board, March)"),
        FieldSpec("body", .choice(bodies), "the body meeting: \(bodies.joined(separator: ", "))"),
        FieldSpec("date", .date, "the meeting's date, YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("status", .choice(meetingStatuses), "scheduled, held or cancelled"),
        FieldSpec("location", shortText, "where, or how (Teams)"),
        FieldSpec("chair", shortText, "who chairs"),
        FieldSpec("agenda", .reference([.list]), "the agenda: a list (LST-) of kind agenda"),
        FieldSpec("minutes", .text(maxLength: 50_000), "the minutes"),
        FieldSpec("attendees", .attendeeSet, "who attended, in what capacity (clustersync meeting attend)"),
        FieldSpec("apologies", .tagSet, "names of members who sent apologies"),
        FieldSpec("actions", .referenceSet([.action]), "actions agreed (ACT- ids)"),
        FieldSpec("decisions", .referenceSet([.decision]), "decisions taken (DEC- ids)"),
        FieldSpec("declarations", .referenceSet([.declaration]), "declarations of interest made at the meeting (DOI- ids)"),
        FieldSpec("tags", .tagSet, "labels"),
    ])

    public static let decision = RecordSchema(type: .decision, fields: [
        FieldSpec("title", shortText, "what was decided"),
        FieldSpec("description", longText, "more detail"),
        FieldSpec("meeting", .reference([.meeting]), "the meeting that took it (MTG- id)"),
        FieldSpec("date", .date, "when, YYYY-MM-DD or DD/MM/YYYY (default: the meeting's date)"),
        FieldSpec("method", .choice(decisionMethods), "consensus or vote"),
        FieldSpec("financial_implications", .flag, "yes or no: decides the majority required"),
        FieldSpec("amount", .amount, "the sum involved, in pounds (12000 or 350.50)"),
        FieldSpec("votes", .choiceMap(voteChoices), "each member's vote: for, against or abstain (clustersync decision vote)"),
        FieldSpec("voted_by_proxy", .tagSet, "members absent from the meeting whose vote a proxy cast (clustersync decision vote --proxy)"),
        FieldSpec("casting_vote", .choice(castingVotes), "the chair's casting vote when the votes tie: for, against or not-used"),
        FieldSpec("outcome", .choice(decisionOutcomes), "agreed, rejected or deferred"),
        FieldSpec("interests", .referenceSet([.declaration]), "declarations of interest considered (DOI- ids)"),
        FieldSpec("abstained_for_interest", .tagSet, "members who abstained because of a declared interest"),
        FieldSpec("actions", .referenceSet([.action]), "resulting actions (ACT- ids)"),
        FieldSpec("tags", .tagSet, "labels"),
    ])

    public static let declaration = RecordSchema(type: .declaration, fields: [
        FieldSpec("member", shortText, "who declares the interest"),
        FieldSpec("organisation", shortText, "the member's organisation"),
        FieldSpec("nature", .choice(interestNatures), "pecuniary, non-pecuniary, close-associate or other"),
        FieldSpec("description", longText, "the interest"),
        FieldSpec("date_declared", .date, "when declared, YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("date_withdrawn", .date, emptiable: true, "when it ended, YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("meeting", .reference([.meeting]), "the meeting it was declared at (MTG- id)"),
        FieldSpec("decisions", .referenceSet([.decision]), "related decisions (DEC- ids)"),
        FieldSpec("dispensation", longText, "a dispensation to take part despite the interest: who granted it, when, for what"),
    ])

    public static let terms = RecordSchema(type: .terms, fields: [
        FieldSpec("title", shortText, "the document's name"),
        FieldSpec("body", .choice(bodies), "the body they govern: \(bodies.joined(separator: ", "))"),
        FieldSpec("date_agreed", .date, "in force from, YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("review_date", .date, emptiable: true, "when next reviewed, YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("quorum", .quorumRule, "members needed: a number (5) or a proportion of the members (1/2)"),
        FieldSpec("quorum_roles", .choiceSet(attendeeRoles), "attendee roles that count towards the quorum (default member, substitute)"),
        FieldSpec("majority", .choice(majorityRules), "majority of votes cast: simple, two-thirds, three-quarters, unanimous"),
        FieldSpec("financial_majority", .choice(majorityRules), "the majority for decisions with financial implications"),
        FieldSpec("members", .tagSet, "the members, by name"),
        FieldSpec("practices", .tagSet, "the practices that belong (their ids): whose attendance is reported"),
        FieldSpec("signatories", .tagSet, "who signed them"),
        FieldSpec("proxies", longText, "whether members may send proxies, and their voting rights (guide §3.10)"),
        FieldSpec("proxy_votes", .flag, "yes or no: whether a member absent from a meeting may vote through a proxy"),
        FieldSpec("chair_casting_vote", .flag, "yes or no: whether the chair has a casting vote when the votes tie under a simple majority"),
        FieldSpec("description", longText, "other provisions"),
    ])

    public static let plan = RecordSchema(type: .plan, fields: [
        FieldSpec("title", shortText, "the plan's name"),
        FieldSpec("period_start", .date, "first day of the plan period, YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("period_end", .date, "last day of the plan period (three years on), YYYY-MM-DD or DD/MM/YYYY"),
        FieldSpec("status", .choice(planStatuses), "draft, agreed, in-progress, complete or superseded"),
        FieldSpec("priorities", .reference([.list]), "the priorities: a list (LST-) of kind priorities, items with measures"),
        FieldSpec("risks", .referenceSet([.risk]), "linked risks (RSK- ids)"),
        FieldSpec("actions", .referenceSet([.action]), "linked actions (ACT- ids)"),
        FieldSpec("decisions", .referenceSet([.decision]), "linked decisions (DEC- ids)"),
        FieldSpec("description", longText, "summary"),
    ])

    public static let contribution = RecordSchema(type: .contribution, fields: [
        FieldSpec("plan", .reference([.plan]), "the plan contributed to (PLN- id)"),
        FieldSpec("contributor", shortText, "the GP practice contributing (its id)"),
        FieldSpec("year", .text(maxLength: 7), "the QAIF year, YYYY-YY (1 October to 30 September)"),
        FieldSpec("date", .date, "when the contribution was made, YYYY-MM-DD or DD/MM/YYYY (deadline 30 September)"),
        FieldSpec("summary", longText, "what the practice contributed (CND015W)"),
        FieldSpec("outcomes", longText, "cluster-determined outcomes delivered (CND016W)"),
    ])

    /// Fields a local edit may not leave empty (a record is found by them).
    public var requiredText: [String] {
        switch type {
        case .item: ["text"]
        case .declaration: ["member"]
        case .contribution: ["contributor"]
        default: fields.contains { $0.name == "title" } ? ["title"] : []
        }
    }
}
