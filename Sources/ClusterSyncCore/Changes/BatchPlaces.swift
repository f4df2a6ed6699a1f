/// Where each change id first is in a batch, for `ChangeWriter.apply`, which looks up every id
/// a change of the batch supersedes.
///
/// Why not a dictionary of ids: a long pull's batch is 100,000 changes, and a hash table that
/// size probed at random missed the caches at every probe: 6% of the time of applying the batch,
/// 14% of what was not SQLite's (MEASUREMENTS.md, thirtieth session). A batch holds the changes of a few replicas, each a
/// run of nearly consecutive counters, and a change supersedes one made shortly before it. So
/// each such replica's places are a stretch of one array indexed by counter, and lookups walk
/// memory nearly in order. A replica whose counters in the batch are scattered (its stretch
/// would be mostly empty) keeps its places in a dictionary.
public struct BatchPlaces: Sendable {
    /// Per replica (by `ReplicaID.bits`), where its counters' places start in `places`, or nil
    /// for a replica whose counters are scattered.
    private var stretches: [UInt64: Stretch?] = [:]
    /// Each place as an index into the batch, -1 for none.
    private var places: [Int32] = []
    private var scattered: [ChangeID: Int] = [:]

    private struct Stretch: Sendable {
        /// The lowest counter of the replica in the batch, and where its place is in `places`.
        var low: Int64
        var start: Int
        var count: Int
    }

    /// How many times its count of changes a replica's span of counters may be (plus a little)
    /// and still have a stretch: `places` stays within a few times the batch's count.
    static let maxSpread = 4
    static let slack = 64

    public init(_ batch: [Change]) {
        precondition(batch.count < Int32.max, "a batch of \(batch.count) changes")
        var spans: [UInt64: (low: Int64, high: Int64, count: Int)] = [:]
        for change in batch {
            let (replica, counter) = (change.id.replica.bits, change.id.counter)
            if let span = spans[replica] {
                spans[replica] = (min(span.low, counter), max(span.high, counter), span.count + 1)
            } else {
                spans[replica] = (counter, counter, 1)
            }
        }
        var total = 0
        for (replica, span) in spans {
            // Counters of decoded changes are at least 1; one built otherwise must not trap.
            let (distance, overflow) = span.high.subtractingReportingOverflow(span.low)
            if !overflow, distance < Int64(Self.maxSpread * span.count + Self.slack) {
                stretches[replica] = Stretch(low: span.low, start: total, count: Int(distance) + 1)
                total += Int(distance) + 1
            } else {
                stretches[replica] = .some(nil)
            }
        }
        places = [Int32](repeating: -1, count: total)
        // From the last to the first, so that the first of copies of an id is the one kept.
        var last: (replica: UInt64, stretch: Stretch?)?
        for index in batch.indices.reversed() {
            let id = batch[index].id
            let stretch = last?.replica == id.replica.bits ? last!.stretch : stretches[id.replica.bits]!
            last = (id.replica.bits, stretch)
            if let stretch {
                places[stretch.start + Int(id.counter - stretch.low)] = Int32(index)
            } else {
                scattered[id] = index
            }
        }
    }

    /// The place of the first change of the batch with `id`, or nil.
    public func place(of id: ChangeID) -> Int? {
        guard let found = stretches[id.replica.bits] else { return nil }
        guard let stretch = found else { return scattered[id] }
        let (offset, overflow) = id.counter.subtractingReportingOverflow(stretch.low)
        guard !overflow, offset >= 0, offset < stretch.count else { return nil }
        let place = places[stretch.start + Int(offset)]
        return place < 0 ? nil : Int(place)
    }
}
