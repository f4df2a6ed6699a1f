import ClusterSyncCore
import Testing

@Suite struct SequenceOrderTests {
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let b = ReplicaID("a3b2c1d0e9f80716")!
    static let c = ReplicaID("0e1d2c3b4a596877")!

    static func slot(_ replica: ReplicaID, _ counter: Int64, at millis: Int64, after: SequenceOrder.Slot?) -> SequenceOrder.Slot {
        SequenceOrder.Slot(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), after: after?.id)
    }

    /// Orders every slot, all visible.
    static func order(_ slots: [SequenceOrder.Slot]) -> [ChangeID] {
        SequenceOrder.order(slots: slots, visible: Set(slots.map(\.id)))
    }

    static func permutations<T>(_ items: [T]) -> [[T]] { Fixtures.permutations(items) }

    @Test func aChainReadsInOrder() {
        let first = Self.slot(Self.a, 1, at: 10, after: nil)
        let second = Self.slot(Self.a, 2, at: 11, after: first)
        let third = Self.slot(Self.a, 3, at: 12, after: second)
        #expect(Self.order([third, first, second]) == [first.id, second.id, third.id])
        #expect(SequenceOrder.order(slots: [], visible: []) == [])
    }

    @Test func concurrentInsertsAtOnePlaceAreBothKeptLatestFirst() {
        let anchor = Self.slot(Self.a, 1, at: 10, after: nil)
        let tail = Self.slot(Self.a, 2, at: 11, after: anchor)
        let fromB = Self.slot(Self.b, 1, at: 20, after: anchor)
        let fromC = Self.slot(Self.c, 1, at: 25, after: anchor)
        let expected = [anchor.id, fromC.id, fromB.id, tail.id]
        // Every replica, whatever order the slots arrived in, reads the same list.
        for arrival in Self.permutations([anchor, tail, fromB, fromC]) {
            #expect(Self.order(arrival) == expected)
        }
    }

    @Test func insertsAtTheHeadWithEqualClocksAreOrderedByChangeID() {
        let fromA = Self.slot(Self.a, 5, at: 10, after: nil)
        let fromB = Self.slot(Self.b, 1, at: 10, after: nil)
        #expect(Self.order([fromA, fromB]) == [fromB.id, fromA.id])
        #expect(Self.order([fromB, fromA]) == [fromB.id, fromA.id])
    }

    @Test func twoReplicasRunsAreNotInterleaved() {
        // Offline, A types three items and B types three items, all at the head, with clocks
        // that alternate between the replicas.
        let a1 = Self.slot(Self.a, 1, at: 10, after: nil)
        let a2 = Self.slot(Self.a, 2, at: 12, after: a1)
        let a3 = Self.slot(Self.a, 3, at: 14, after: a2)
        let b1 = Self.slot(Self.b, 1, at: 11, after: nil)
        let b2 = Self.slot(Self.b, 2, at: 13, after: b1)
        let b3 = Self.slot(Self.b, 3, at: 15, after: b2)
        let expected = [b1.id, b2.id, b3.id, a1.id, a2.id, a3.id]
        #expect(Self.order([a1, a2, a3, b1, b2, b3]) == expected)
        #expect(Self.order([b3, a3, b2, a2, b1, a1]) == expected)
    }

    @Test func aMoveKeepsTheFollowersPlaces() {
        // x, y, z, each typed after the one before.
        let x1 = Self.slot(Self.a, 1, at: 10, after: nil)
        let y1 = Self.slot(Self.a, 2, at: 11, after: x1)
        let z1 = Self.slot(Self.a, 3, at: 12, after: y1)
        // x moves to the end: its new slot follows z's; its old slot stays in the tree, unseen.
        let x2 = Self.slot(Self.b, 1, at: 20, after: z1)
        let moved = SequenceOrder.order(slots: [x1, y1, z1, x2], visible: [x2.id, y1.id, z1.id])
        #expect(moved == [y1.id, z1.id, x2.id])
        // y moves to the head instead: z, placed after y, stays where y was (after x).
        let y2 = Self.slot(Self.b, 2, at: 21, after: nil)
        let movedY = SequenceOrder.order(slots: [x1, y1, z1, y2], visible: [x1.id, y2.id, z1.id])
        #expect(movedY == [y2.id, x1.id, z1.id])
    }

    @Test func invisibleSlotsAreLeftOut() {
        let x = Self.slot(Self.a, 1, at: 10, after: nil)
        let y = Self.slot(Self.a, 2, at: 11, after: x)
        #expect(SequenceOrder.order(slots: [x, y], visible: [y.id]) == [y.id])
        #expect(SequenceOrder.order(slots: [x, y], visible: []) == [])
    }

    @Test func aSlotWhoseAnchorIsUnknownHangsOffTheHeadUntilItArrives() {
        let head = Self.slot(Self.a, 1, at: 10, after: nil)
        let anchor = Self.slot(Self.b, 1, at: 5, after: nil)
        let orphan = Self.slot(Self.c, 1, at: 30, after: anchor)
        // Without its anchor the orphan is a head slot, and the latest one.
        #expect(Self.order([head, orphan]) == [orphan.id, head.id])
        // Once the anchor arrives the orphan follows it.
        #expect(Self.order([head, orphan, anchor]) == [head.id, anchor.id, orphan.id])
    }

    @Test func slotsAreReadFromPositionWrites() {
        let id = ChangeID(replica: Self.a, counter: 4)
        let hlc = HLCTimestamp(millis: 99)
        func write(_ value: JSONValue) -> FieldWrite { FieldWrite(id: id, hlc: hlc, field: "position", value: value) }
        #expect(SequenceOrder.Slot(write(.object(["after": .null]))) == SequenceOrder.Slot(id: id, hlc: hlc, after: nil))
        let anchor = ChangeID(replica: Self.b, counter: 15)
        #expect(SequenceOrder.Slot(write(.object(["after": .string(anchor.description)])))?.after == anchor)
        #expect(SequenceOrder.Slot(write(.string("head"))) == nil)
        #expect(SequenceOrder.Slot(write(.object([:]))) == nil)
    }

    @Test func aLongRunDoesNotExhaustTheStack() {
        var slots: [SequenceOrder.Slot] = []
        var previous: SequenceOrder.Slot?
        for n in 1...50_000 {
            let slot = Self.slot(Self.a, Int64(n), at: Int64(n), after: previous)
            slots.append(slot)
            previous = slot
        }
        let order = Self.order(slots.reversed())
        #expect(order == slots.map(\.id))
    }

    // MARK: Crafted positions

    /// A slot placed after itself cannot be reached from the head; it must not vanish, and every
    /// replica must put it in the same place: after the tree, latest first.
    @Test func aSlotAfterItselfFollowsTheTree() {
        let x = Self.slot(Self.a, 1, at: 10, after: nil)
        let y = Self.slot(Self.a, 2, at: 11, after: x)
        let selfID = ChangeID(replica: Self.b, counter: 1)
        let loop = SequenceOrder.Slot(id: selfID, hlc: HLCTimestamp(millis: 5), after: selfID)
        for arrival in Self.permutations([x, y, loop]) {
            #expect(Self.order(arrival) == [x.id, y.id, loop.id])
        }
        // Slots placed after it follow it.
        let z = Self.slot(Self.c, 1, at: 12, after: loop)
        #expect(Self.order([loop, z, x, y]) == [x.id, y.id, z.id, loop.id])
        #expect(SequenceOrder.order(slots: [loop, z, x, y], visible: [loop.id, x.id]) == [x.id, loop.id])
    }

    @Test func slotsInACycleFollowTheTreeLatestFirst() {
        let head = Self.slot(Self.a, 1, at: 10, after: nil)
        let p = ChangeID(replica: Self.b, counter: 1)
        let q = ChangeID(replica: Self.b, counter: 2)
        let r = ChangeID(replica: Self.c, counter: 1)
        let cycle = [
            SequenceOrder.Slot(id: p, hlc: HLCTimestamp(millis: 20), after: r),
            SequenceOrder.Slot(id: q, hlc: HLCTimestamp(millis: 30), after: p),
            SequenceOrder.Slot(id: r, hlc: HLCTimestamp(millis: 30), after: q),
        ]
        // Equal clocks: the greater change id first (replica b > replica c, as strings).
        let expected = [head.id, q, r, p]
        for arrival in Self.permutations([head] + cycle) {
            #expect(Self.order(arrival) == expected)
        }
        // Invisible cycle members stay out; visible ones keep the same order.
        #expect(SequenceOrder.order(slots: [head] + cycle, visible: [p, head.id, r]) == [head.id, r, p])
        // Nothing reachable at all: the whole list is the stranded slots.
        #expect(SequenceOrder.order(slots: cycle, visible: [p, q, r]) == [q, r, p])
    }

    @Test func aRepeatedSlotIsListedOnce() {
        let x = Self.slot(Self.a, 1, at: 10, after: nil)
        let y = Self.slot(Self.a, 2, at: 11, after: x)
        #expect(Self.order([x, y, x, y]) == [x.id, y.id])
    }

    @Test func aPositionAfterItsOwnIDIsRefusedWhenTheChangeIsValidated() throws {
        let item = try #require(RecordID("ITM-2B6D8G4K0E"))
        let id = ChangeID(replica: Self.a, counter: 7)
        func change(after: ChangeID?) -> Change {
            Change(id: id, hlc: HLCTimestamp(millis: 10), record: item, scope: RecordScope(tenant: "t", cluster: "c"),
                   field: "position", value: .object(["after": after.map { .string($0.description) } ?? .null]))
        }
        do throws(ClusterSyncError) {
            try change(after: id).validate()
            Issue.record("a position after its own id was accepted")
        } catch {
            #expect(error.code == .invalidValue && error.field == "position")
        }
        try change(after: nil).validate()
        try change(after: ChangeID(replica: Self.a, counter: 6)).validate()
        // validate() also runs the schema's checks.
        var title = change(after: nil)
        title.field = "colour"
        #expect(throws: ClusterSyncError.self) { try title.validate() }
    }
}
