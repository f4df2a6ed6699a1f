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

    /// `maxLiveWrites` live writes of `field` by `replica` (a map's: one entry each).
    static func full(_ field: String = "tags", of replica: ReplicaID = b) -> Set<FieldGrowth.LiveWrite> {
        Set((1...Int64(FieldGrowth.maxLiveWrites)).map {
            FieldGrowth.LiveWrite(field: field == "votes" ? "votes:Member \($0)" : field, id: ChangeID(replica: replica, counter: $0))
        })
    }

    static func ids(_ writes: Set<FieldGrowth.LiveWrite>) -> [ChangeID] { writes.map(\.id).sorted { $0.counter < $1.counter } }

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
        let first = Self.ids(full)[0]
        try FieldGrowth.check(Self.change(1, "tags", nil, supersedes: [first]), live: full, receiver: .replica)
        let titles = Self.full("title")
        try FieldGrowth.check(Self.change(1, "title", .string("Winter"), supersedes: [first]), live: titles, receiver: .replica)
        var stored = full
        stored.remove(FieldGrowth.LiveWrite(field: "tags", id: first))
        stored.insert(FieldGrowth.LiveWrite(field: "tags", id: add.id))
        try FieldGrowth.check(add, live: stored, receiver: .server)
        // A write over an id that is not live replaces nothing.
        #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "title", .string("Winter"), supersedes: [ChangeID(replica: Self.a, counter: 99)]), live: titles, receiver: .server)
        }
        let votes = Self.full("votes")
        let newKey = #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "votes:Dr Evans", .string("for"), on: Self.decision), live: votes, receiver: .replica)
        }
        #expect(newKey?.message.hasPrefix("\(Self.decision) votes holds 1000 entries") == true)
        // A map entry's write replaces only a write of its own entry: naming another entry's
        // (which the store would not kill) is still an add (the security review's bypass).
        #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "votes:Dr Evans", .string("for"), on: Self.decision, supersedes: [first]), live: votes, receiver: .server)
        }
        try FieldGrowth.check(Self.change(1, "votes:Member 1", .string("against"), on: Self.decision, supersedes: [first]), live: votes, receiver: .server)
        let notes = #expect(throws: ClusterSyncError.self) {
            try FieldGrowth.check(Self.change(1, "notes", .object(["date": .string("2026-12-05"), "text": .string("Chased")]), on: RecordID("ACT-7K3M9Q2X1F")!),
                                  live: Self.full("notes"), receiver: .replica)
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
        var tally = FieldGrowth.PushTally(FieldGrowth.NearlyFull(sources: [Self.risk: Set(others.dropFirst())]))
        try tally.admit(Self.change(0, "source", .string(Self.risk.rawValue), on: RecordID.random(for: .action)))
        let pushed = #expect(throws: PushRejection.self) { try tally.admit(naming) }
        #expect(pushed?.change == naming.id && pushed?.error.message.contains("at this server; nothing of the batch was stored") == true)
    }

    /// A store counts the groups a push writes values to and reads the ids of only those that
    /// may be full by its end; the push's earlier changes add and take away live writes.
    @Test func aStoreReadsOnlyTheGroupsThatMayBeFull() throws {
        let tag = Self.change(1, "tags", .string("winter")), vote = Self.change(2, "votes:Dr Evans", .string("for"), on: Self.decision)
        let untag = Self.change(3, "tags", nil, supersedes: [ChangeID(replica: Self.b, counter: 1)])
        let reads = FieldGrowth.PushReads([tag, vote, untag, Self.change(4, "votes:Dr Jones", .string("against"), on: Self.decision)])
        #expect(reads.groups == [FieldGrowth.Group(of: tag): 1, FieldGrowth.Group(of: vote): 2])
        #expect(reads.toRead(counted: { $0.record == Self.risk ? 999 : 997 }, countedActions: { _ in 0 }).groups == [FieldGrowth.Group(of: tag)])
        #expect(reads.toRead(counted: { $0.record == Self.risk ? 998 : 998 }, countedActions: { _ in 0 }).groups == [FieldGrowth.Group(of: vote)])
        #expect(reads.sources.isEmpty)

        // Through a push, each change is counted in once admitted: a removal makes room, an add
        // takes it, another field is not counted, and a group not read is never full.
        let full = FieldGrowth.NearlyFull(groups: [FieldGrowth.Group(of: tag): Array(Self.full())])
        var tally = FieldGrowth.PushTally(full)
        #expect(throws: PushRejection.self) { try tally.admit(tag) }
        try tally.admit(Self.change(5, "owner", .string("Rhyl")))
        try tally.admit(untag)
        try tally.admit(tag)
        let again = #expect(throws: PushRejection.self) { try tally.admit(Self.change(6, "tags", .string("spring"))) }
        #expect(again?.change == ChangeID(replica: Self.a, counter: 6))
        try tally.admit(vote)
        var empty = FieldGrowth.PushTally(FieldGrowth.NearlyFull())
        try empty.admit(tag)
    }
}
