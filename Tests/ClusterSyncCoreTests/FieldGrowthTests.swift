import Testing

@testable import ClusterSyncCore

/// How far one field of one record may grow (`FieldGrowth`): the rule both ends apply.
@Suite struct FieldGrowthTests {
    static let risk = RecordID("RSK-7K3M9Q2X1F")!, decision = RecordID("DEC-7K3M9Q2X1F")!
    static let a = ReplicaID("00000000000000a1")!, b = ReplicaID("00000000000000b2")!
    static let scope = RecordScope(tenant: "bcuhb", cluster: "north")

    static func change(_ n: Int64, _ field: String, _ value: JSONValue?, on record: RecordID = risk, by replica: ReplicaID = a,
                       supersedes: [ChangeID] = []) -> Change {
        Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_790_000_000_000 + n), record: record, scope: scope,
               field: field, value: value, supersedes: supersedes)
    }

    /// `maxLiveWrites` ids of `replica`.
    static func full(of replica: ReplicaID = b) -> Set<ChangeID> {
        Set((1...Int64(FieldGrowth.maxLiveWrites)).map { ChangeID(replica: replica, counter: $0) })
    }

    @Test func aMapsEntriesCountTogetherAndOtherFieldsAlone() {
        #expect(FieldGrowth.group(of: "votes:Dr Siân Evans") == "votes")
        #expect(FieldGrowth.group(of: "tags") == "tags")
        #expect(FieldGrowth.field("votes:Dr Evans", isIn: "votes"))
        #expect(FieldGrowth.field("tags", isIn: "tags"))
        #expect(!FieldGrowth.field("votesx", isIn: "votes"), "another field sharing the map's first letters")
        #expect(!FieldGrowth.field("tags", isIn: "votes"))
        #expect(FieldGrowth.Group(of: Self.change(1, "votes:Dr Evans", .string("for"), on: Self.decision)).isMap)
        #expect(!FieldGrowth.Group(of: Self.change(1, "tags", .string("winter"))).isMap)
    }

    @Test func aFullFieldTakesNoNewValueButStillTakesOneThatReplacesAValue() throws {
        let full = Self.full()
        let add = Self.change(1, "tags", .string("winter"))
        let error = #expect(throws: ClusterSyncError.self) { try FieldGrowth.check(add, live: full, receiver: .replica) }
        #expect(error?.code == .invalidValue && error?.field == "tags")
        #expect(error?.message == "\(Self.risk) tags holds 1000 members, the most one field may hold (1000): remove some (or settle its conflict) before adding more. Nothing was changed.")
        let server = #expect(throws: ClusterSyncError.self) { try FieldGrowth.check(add, live: full, receiver: .server) }
        #expect(server?.message.hasPrefix("change 1@00000000000000a1 adds to \(Self.risk) tags holds 1000 members") == true)
        #expect(server?.message.contains("nothing of the batch was stored") == true)

        try FieldGrowth.check(add, live: Set(full.dropFirst()), receiver: .replica)
        try FieldGrowth.check(Self.change(1, "tags", nil, supersedes: [full.first!]), live: full, receiver: .replica)
        try FieldGrowth.check(Self.change(1, "title", .string("Winter"), supersedes: [full.first!]), live: full, receiver: .replica)
        var stored = full
        stored.remove(full.first!)
        stored.insert(add.id)
        try FieldGrowth.check(add, live: stored, receiver: .server)
        // A write over an id that is not live replaces nothing.
        #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "title", .string("Winter"), supersedes: [ChangeID(replica: Self.a, counter: 99)]), live: full, receiver: .server)
        }
        let votes = #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "votes:Dr Evans", .string("for"), on: Self.decision), live: full, receiver: .replica)
        }
        #expect(votes?.message.hasPrefix("\(Self.decision) votes holds 1000 entries") == true)
        let notes = #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "notes", .object(["date": .string("2026-12-05"), "text": .string("Chased")]), on: RecordID("ACT-7K3M9Q2X1F")!),
                                  live: full, receiver: .replica)
        }
        #expect(notes?.message.contains("holds 1000 notes") == true)
    }

    /// One record is the source of at most `maxActionsPerSource` actions.
    @Test func aRecordIsTheSourceOfBoundedlyManyActions() throws {
        let action = RecordID("ACT-7K3M9Q2X1F")!
        let naming = Self.change(1, "source", .string(Self.risk.rawValue), on: action)
        #expect(FieldGrowth.sourceNamed(by: naming) == Self.risk)
        #expect(FieldGrowth.sourceNamed(by: Self.change(1, "source", nil, on: action)) == nil)
        #expect(FieldGrowth.sourceNamed(by: Self.change(1, "title", .string(Self.risk.rawValue), on: action)) == nil)
        let reads = FieldGrowth.PushReads([naming, Self.change(2, "title", .string("Locum"), on: action)])
        #expect(reads.sources == [Self.risk: 1])
        #expect(reads.toRead(counted: { _ in 0 }, countedActions: { _ in FieldGrowth.maxActionsPerSource - 1 }).sources == [Self.risk])
        #expect(reads.toRead(counted: { _ in 0 }, countedActions: { _ in FieldGrowth.maxActionsPerSource - 2 }).sources.isEmpty)

        let others = Set((0..<FieldGrowth.maxActionsPerSource).map { _ in RecordID.random(for: .action) })
        let error = #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.checkSource(naming, source: Self.risk, actions: others, receiver: .replica)
        }
        #expect(error?.code == .invalidValue && error?.field == "source")
        #expect(error?.message == "1000 actions name \(Self.risk) as their source, the most one record may be the source of (1000): "
            + "give \(action) another source, or none. Nothing was changed.")
        try FieldGrowth.checkSource(naming, source: Self.risk, actions: Set(others.dropFirst()), receiver: .replica)
        try FieldGrowth.checkSource(naming, source: Self.risk, actions: Set(others.dropFirst()).union([action]), receiver: .replica)
        // A store's check: the push's earlier actions naming it count.
        let full = FieldGrowth.NearlyFull(sources: [Self.risk: Set(others.dropFirst())])
        try FieldGrowth.checkPushed(naming, nearlyFull: full, earlier: [])
        let pushed = #expect(throws: PushRejection.self) {
            try FieldGrowth.checkPushed(naming, nearlyFull: full, earlier: [Self.change(0, "source", .string(Self.risk.rawValue), on: RecordID.random(for: .action))])
        }
        #expect(pushed?.change == naming.id && pushed?.error.message.contains("at this server; nothing of the batch was stored") == true)
    }

    /// A store counts the groups a push writes values to and reads the ids of only those that
    /// may be full by its end; the push's earlier changes add and take away live writes.
    @Test func aStoreReadsOnlyTheGroupsThatMayBeFull() {
        let tag = Self.change(1, "tags", .string("winter")), vote = Self.change(2, "votes:Dr Evans", .string("for"), on: Self.decision)
        let untag = Self.change(3, "tags", nil, supersedes: [ChangeID(replica: Self.b, counter: 1)])
        let reads = FieldGrowth.PushReads([tag, vote, untag, Self.change(4, "votes:Dr Jones", .string("against"), on: Self.decision)])
        #expect(reads.groups == [FieldGrowth.Group(of: tag): 1, FieldGrowth.Group(of: vote): 2])
        #expect(reads.toRead(counted: { $0.record == Self.risk ? 999 : 997 }, countedActions: { _ in 0 }).groups == [FieldGrowth.Group(of: tag)])
        #expect(reads.toRead(counted: { $0.record == Self.risk ? 998 : 998 }, countedActions: { _ in 0 }).groups == [FieldGrowth.Group(of: vote)])
        #expect(reads.sources.isEmpty)

        let stored = Self.full()
        #expect(FieldGrowth.liveBefore(tag, stored: stored, earlier: [untag]).count == FieldGrowth.maxLiveWrites - 1)
        #expect(FieldGrowth.liveBefore(tag, stored: stored, earlier: [Self.change(5, "tags", .string("spring"))]).count == FieldGrowth.maxLiveWrites + 1)
        #expect(FieldGrowth.liveBefore(tag, stored: stored, earlier: [Self.change(5, "owner", .string("Rhyl"))]).count == FieldGrowth.maxLiveWrites,
                "another field")
        #expect(FieldGrowth.liveBefore(vote, stored: [], earlier: [Self.change(5, "votes:Dr Jones", .string("for"), on: Self.decision)]).count == 1,
                "another entry of the same map")
    }
}
