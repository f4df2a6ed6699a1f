import ClusterSyncClient
import ClusterSyncCore
import Testing

/// The replica's side of `FieldGrowth`: an edit that would take a field past the most live
/// writes one may hold is refused before it reaches the outbox, as the server would refuse it.
@Suite struct FieldGrowthReplicaTests {
    @Test func aFullFieldTakesNoMoreAndNothingIsQueued() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let limit = FieldGrowth.maxLiveWrites
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Out-of-hours cover"))]
                                   + (1...limit).map { Edit.add("tags", .string("tag \($0)")) })
        let pending = try rhyl.pendingCount()
        let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit(risk, .add("tags", .string("one too many"))) }
        #expect(error?.code == .invalidValue && error?.field == "tags")
        #expect(error?.message == "\(risk) tags holds \(limit) members, the most one field may hold (\(limit)): "
            + "remove some (or settle its conflict) before adding more. Nothing was changed.")
        #expect(try rhyl.pendingCount() == pending, "nothing waits in the outbox")
        #expect(try rhyl.record(risk)?.members("tags").count == limit)
        // Room made, and another field of the record, as ever.
        try rhyl.edit(risk, .remove("tags", .string("tag 1")))
        try rhyl.edit(risk, .add("tags", .string("winter")))
        try rhyl.edit(risk, .set("owner", .string("Rhyl")))

        // A map's entries count together: a decision's votes.
        let decision = try rhyl.create(.decision, edits: [.set("title", .string("Fund a winter locum"))]
                                       + (1...limit).map { Edit.set("votes:Member \($0)", .string("for")) })
        let votes = #expect(throws: ClusterSyncError.self) { try rhyl.edit(decision, .set("votes:Member 0", .string("against"))) }
        #expect(votes?.message.hasPrefix("\(decision) votes holds \(limit) entries") == true, "\(String(describing: votes))")
        try rhyl.edit(decision, .set("votes:Member 1", .string("against")))
    }

    /// One record is the source of at most `FieldGrowth.maxActionsPerSource` actions, counted
    /// with those the same edit makes before they are written.
    @Test func aRiskIsTheSourceOfBoundedlyManyActions() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let limit = FieldGrowth.maxActionsPerSource
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Out-of-hours cover"))])
        let actions = try (0...limit).map { try rhyl.create(.action, edits: [.set("title", .string("Action \($0)"))]) }
        let naming = actions.map { ($0, Edit.set("source", .string(risk.rawValue))) }
        let inOneEdit = #expect(throws: ClusterSyncError.self) { try rhyl.edit(naming) }
        #expect(inOneEdit?.message.hasPrefix("\(limit) actions name \(risk) as their source") == true, "\(String(describing: inOneEdit))")
        try rhyl.edit(Array(naming.dropLast()))
        let pending = try rhyl.pendingCount()
        let error = #expect(throws: ClusterSyncError.self) { try rhyl.edit([naming.last!]) }
        #expect(error?.code == .invalidValue && error?.field == "source")
        #expect(error?.message == "\(limit) actions name \(risk) as their source, the most one record may be the source of (\(limit)): "
            + "give \(actions.last!) another source, or none. Nothing was changed.")
        #expect(try rhyl.pendingCount() == pending, "nothing waits in the outbox")
        try rhyl.edit([naming[0]])
    }

    /// A delete names every live write of the record as seen, and a change names at most
    /// `Change.maxSeen`: a record grown past that is refused here, as every server would refuse
    /// the delete, where before the lead's replica showed it deleted and no other ever did.
    @Test func aDeleteNamingMoreThanAChangeMayIsRefusedAndNothingChanges() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        try rhyl.rememberRole(.clusterLead, region: nil)
        let limit = FieldGrowth.maxLiveWrites
        let actions = try (1...100).map { try rhyl.create(.action, edits: [.set("title", .string("Action \($0)"))]) }
        let decision = try rhyl.create(.decision, edits: [.set("title", .string("Fund a winter locum"))]
            + (1...limit).map { Edit.set("votes:Member \($0)", .string("for")) }
            + (1...limit).map { Edit.add("voted_by_proxy", .string("Member \($0)")) }
            + (1...limit).map { Edit.add("abstained_for_interest", .string("Member \($0)")) }
            + (1...limit).map { Edit.add("tags", .string("tag \($0)")) }
            + actions.map { Edit.add("actions", .string($0.rawValue)) })
        let pending = try rhyl.pendingCount()
        let error = #expect(throws: ClusterSyncError.self) { try rhyl.delete(decision) }
        #expect(error?.code == .invalidValue && error?.message.contains("more than one delete can name (\(Change.maxSeen))") == true,
                "\(String(describing: error))")
        #expect(try rhyl.pendingCount() == pending, "nothing waits in the outbox")
        #expect(try rhyl.record(decision)?.isDeleted == false)
    }
}
