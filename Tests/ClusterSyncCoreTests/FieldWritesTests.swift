import ClusterSyncCore
import Testing

/// The one merge rule: a change adds its write unless already superseded, and kills the writes
/// it names.
@Suite struct FieldWritesTests {
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let b = ReplicaID("a3b2c1d0e9f80716")!
    static let c = ReplicaID("0e1d2c3b4a596877")!
    static let risk = RecordID("RSK-7K3M9Q2X1A")!

    static func write(
        _ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ value: JSONValue?, field: String = "title",
        sup: [Change] = [], logical: UInt16 = 0
    ) -> Change {
        Change(
            id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis, logical: logical),
            record: risk, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: field, value: value,
            supersedes: sup.map(\.id))
    }

    static func merged(_ changes: [Change]) -> FieldWrites {
        var state = FieldWrites()
        for change in changes { state.apply(change) }
        return state
    }

    static func permutations<T>(_ items: [T]) -> [[T]] { Fixtures.permutations(items) }

    // A register's history: A and B write concurrently; A then writes having seen both, while B
    // writes having seen only its own; C writes having seen A's second write.
    static let draft = write(a, 1, at: 100, .string("Draft"))
    static let alternative = write(b, 1, at: 101, .string("Alternative"))
    static let final = write(a, 2, at: 110, .string("Final"), sup: [draft, alternative])
    static let other = write(b, 2, at: 105, .string("Other"), sup: [alternative])
    static let latest = write(c, 1, at: 120, .string("Latest"), sup: [final])
    static let register = [draft, alternative, final, other, latest]

    // A tag set's history: two concurrent adds of one label; A removes both; C adds the label
    // again without seeing the remove; B adds and removes another label.
    static let addA = write(a, 1, at: 100, .string("estates"), field: "tags")
    static let addB = write(b, 1, at: 101, .string("estates"), field: "tags")
    static let removeBoth = write(a, 2, at: 110, nil, field: "tags", sup: [addA, addB])
    static let addC = write(c, 1, at: 105, .string("estates"), field: "tags")
    static let addWorkforce = write(b, 2, at: 102, .string("workforce"), field: "tags")
    static let removeWorkforce = write(b, 3, at: 130, nil, field: "tags", sup: [addWorkforce])
    static let tags = [addA, addB, removeBoth, addC, addWorkforce, removeWorkforce]

    // MARK: Registers

    @Test func concurrentRegisterWritesAreBothKept() {
        let state = Self.merged([Self.draft, Self.alternative])
        #expect(Set(state.live.keys) == [Self.draft.id, Self.alternative.id])
        // The later clock is the default winner; the other stays as a conflict.
        #expect(state.ordered.map(\.value) == [.string("Alternative"), .string("Draft")])
    }

    @Test func equalClocksAreOrderedByTheGreaterChangeID() {
        let fromA = Self.write(Self.a, 7, at: 100, .string("from A"))
        let fromB = Self.write(Self.b, 1, at: 100, .string("from B"))
        // a3b2... > 5f0c...: the replica decides before the counter.
        #expect(Self.merged([fromA, fromB]).ordered.map(\.id) == [fromB.id, fromA.id])
        #expect(Self.merged([fromB, fromA]).ordered.map(\.id) == [fromB.id, fromA.id])
        let second = Self.write(Self.a, 8, at: 100, .string("again"))
        #expect(Self.merged([fromA, second]).ordered.map(\.id) == [second.id, fromA.id])
        // The logical part of the clock counts before any id.
        let logical = Self.write(Self.a, 2, at: 100, .string("logical"), logical: 1)
        #expect(Self.merged([fromB, logical]).ordered.first?.id == logical.id)
    }

    @Test func aLaterWriteSupersedesEverySiblingItSaw() {
        let state = Self.merged([Self.draft, Self.alternative, Self.final])
        #expect(state.ordered.map(\.id) == [Self.final.id])
        #expect(state.superseded == [Self.draft.id, Self.alternative.id])
    }

    @Test func aWriteKillsOnlyTheWritesItNames() {
        // B saw only its own write: A's draft survives beside B's new value.
        let state = Self.merged([Self.draft, Self.alternative, Self.other])
        #expect(state.ordered.map(\.id) == [Self.other.id, Self.draft.id])
    }

    @Test func aWriteSupersededBeforeItArrivesStaysDead() {
        let state = Self.merged([Self.final, Self.draft, Self.alternative])
        #expect(state.ordered.map(\.id) == [Self.final.id])
        #expect(state.superseded.contains(Self.draft.id))
        // Even a write that is later on the clock stays dead once superseded.
        let early = Self.write(Self.c, 9, at: 1_000, .string("future"))
        let killer = Self.write(Self.a, 3, at: 200, .string("saw it"), sup: [early])
        #expect(Self.merged([killer, early]).ordered.map(\.id) == [killer.id])
    }

    @Test func registerHistoryConverges() {
        let state = Self.merged(Self.register)
        #expect(state.ordered.map(\.id) == [Self.latest.id, Self.other.id])
        #expect(state.superseded == [Self.draft.id, Self.alternative.id, Self.final.id])
    }

    // MARK: Sets and logs

    @Test func aRemoveHasNoWriteOfItsOwn() {
        #expect(FieldWrite(Self.removeBoth) == nil)
        let state = Self.merged([Self.removeBoth])
        #expect(state.live.isEmpty)
        #expect(state.superseded == [Self.addA.id, Self.addB.id])
    }

    @Test func aRemoveKillsTheAddsItSaw() {
        let state = Self.merged([Self.addA, Self.addB, Self.removeBoth])
        #expect(state.live.isEmpty)
    }

    @Test func anAddWinsAgainstAConcurrentRemove() {
        let state = Self.merged([Self.addA, Self.addB, Self.addC, Self.removeBoth])
        #expect(state.ordered.map(\.id) == [Self.addC.id])
        #expect(state.ordered.map(\.value) == [.string("estates")])
    }

    @Test func tagHistoryConverges() {
        let state = Self.merged(Self.tags)
        #expect(state.ordered.map(\.id) == [Self.addC.id])
        #expect(state.superseded == [Self.addA.id, Self.addB.id, Self.addWorkforce.id])
    }

    @Test func appendsToALogAreAllKept() {
        let notes = (1...4).map { Self.write(Self.a, Int64($0), at: 100, .object(["date": .string("2026-11-23"), "text": .string("note \($0)")]), field: "notes") }
        let state = Self.merged(notes.reversed())
        #expect(Set(state.live.keys) == Set(notes.map(\.id)))
        #expect(state.superseded.isEmpty)
    }

    // MARK: Convergence

    @Test(arguments: ["register", "tags"])
    func applyingIsIdempotent(_ history: String) {
        let changes = history == "register" ? Self.register : Self.tags
        let once = Self.merged(changes)
        #expect(Self.merged(changes + changes) == once)
        #expect(Self.merged(changes.flatMap { [$0, $0] }) == once)
        var state = once
        for change in changes.reversed() { state.apply(change) }
        #expect(state == once)
    }

    @Test(arguments: ["register", "tags"])
    func applyingIsCommutative(_ history: String) {
        let changes = history == "register" ? Self.register : Self.tags
        let expected = Self.merged(changes)
        let orders = Self.permutations(changes)
        #expect(orders.count == (1...changes.count).reduce(1, *))
        for order in orders {
            let state = Self.merged(order)
            #expect(state == expected, "order \(order.map(\.id.description))")
        }
        // The expected state is not trivially equal to anything: it holds what the history says.
        let survivors: Set<ChangeID> = history == "register" ? [Self.latest.id, Self.other.id] : [Self.addC.id]
        #expect(Set(expected.live.keys) == survivors)
    }

    @Test func replicasThatReceiveInDifferentOrdersAgree() {
        // Both histories together, each replica receiving a different interleaving with
        // duplicates, as sync sessions that overlap would deliver them.
        let all = Self.register + Self.tags
        func split(_ changes: [Change]) -> [String: FieldWrites] {
            var fields: [String: FieldWrites] = [:]
            for change in changes { fields[change.field, default: FieldWrites()].apply(change) }
            return fields
        }
        let reference = split(all)
        let interleavings: [[Change]] = [Array(all.reversed()), all.shuffledDeterministically(seed: 1), all.shuffledDeterministically(seed: 2) + all]
        for order in interleavings {
            #expect(split(order) == reference)
        }
    }
}

extension Array {
    /// A fixed shuffle (a linear congruential generator), so failures reproduce.
    fileprivate func shuffledDeterministically(seed: UInt64) -> [Element] {
        var state = seed
        var result = self
        for i in result.indices.reversed() where i > 0 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            result.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
        }
        return result
    }
}
