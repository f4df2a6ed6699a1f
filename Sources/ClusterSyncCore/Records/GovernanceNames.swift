/// The names a form suggests as someone types one: a chair records attendance and votes by
/// picking from the body's members rather than typing each name, spelled as the terms of
/// reference spell it (web app audit as a chair: names were typed each time). A suggestion,
/// never a rule: any name may still be typed, and the sets' rules judge it.
extension GovernanceRecords {
    /// For a meeting's attendance: the members of its body's terms of reference in force on its
    /// date, then everyone recorded at that body's other meetings, by name; each once (compared
    /// as `nameKey` compares, the first spelling kept), and none already recorded at it.
    public func namesToOffer(attending meeting: RecordView) -> [String] {
        let members = termsInForce(at: meeting)?.members("members").compactMap(\.stringValue) ?? []
        let attendedBefore = meetings.filter { $0.id != meeting.id && $0.string("body") == meeting.string("body") }
            .flatMap { $0.attendees.map(\.name) }
        return Self.offered(members.sortedByName + attendedBefore.sortedByName,
                            leaving: meeting.attendees.map(\.name))
    }

    /// For a substitute's `replaces`: the members of the body's terms in force on the meeting's
    /// date who are not recorded at it (a substitute stands in for a member who is not there).
    public func namesToOffer(replacedAt meeting: RecordView) -> [String] {
        let members = termsInForce(at: meeting)?.members("members").compactMap(\.stringValue) ?? []
        return Self.offered(members.sortedByName, leaving: meeting.attendees.map(\.name))
    }

    /// For a declaration's `member`: every member of every body's terms of reference, then
    /// everyone recorded at a meeting, by name, each once.
    public var namesToOffer: [String] {
        let members = terms.flatMap { $0.members("members").compactMap(\.stringValue) }
        return Self.offered(members.sortedByName + meetings.flatMap { $0.attendees.map(\.name) }.sortedByName, leaving: [])
    }

    /// For a decision's votes: its meeting's attendees who count towards the quorum (members and
    /// substitutes unless the terms say otherwise), then the terms' other members (an absent
    /// member may vote through a proxy), by name; none who has voted already.
    public func namesToOffer(voting decision: RecordView) -> [String] {
        let meeting = meeting(decision.string("meeting"))
        let roles = meeting.map { quorum(of: $0).roles } ?? Self.defaultQuorumRoles
        let present = meeting?.attendees.filter { roles.contains($0.role) }.map(\.name) ?? []
        let members = termsInForce(for: decision)?.members("members").compactMap(\.stringValue) ?? []
        return Self.offered(present.sortedByName + members.sortedByName,
                            leaving: Array(decision.mapValues("votes").keys))
    }

    /// A member's name as a vote records it (the key of `votes:NAME`), refused in a vote's words
    /// rather than the map rule's (`votes:KEY`), which nobody voting has seen (chair's audit).
    public static func checkVoterName(_ name: String) throws(ClusterSyncError) {
        do throws(ClusterSyncError) {
            try FieldMap.validateKey(name, field: "votes")
        } catch where error.code == .invalidValue {
            throw ClusterSyncError(.invalidValue,
                "a member's name in a vote is 1 to \(FieldMap.maxKeyLength) characters, without line breaks; got \(name.count) characters",
                field: "votes")
        }
    }

    private static func offered(_ names: [String], leaving taken: [String]) -> [String] {
        var seen = Set(taken.map(nameKey))
        return names.filter { seen.insert(nameKey($0)).inserted }
    }
}

private extension Array<String> {
    /// By name as `nameKey` compares them, then as written; each name folded once, not at every
    /// comparison (a meeting's page offered the names of 900 attendances in 0.6 s).
    var sortedByName: [String] {
        map { (key: GovernanceRecords.nameKey($0), name: $0) }.sorted { ($0.key, $0.name) < ($1.key, $1.name) }.map(\.name)
    }
}
