import ClusterSyncCore
import Synchronization

/// Each cluster's roll-up as a store last aggregated it, and the contributions it was
/// aggregated from, so that a read-only (`pcpg`, `health-board`) session's pull decodes only
/// what changed since. Decoding a kept contribution (`JSONDecoder`, about 13 µs) was most of a
/// PCPG's pull: 20 clusters of 1,500 records were 30,000 decodes at every pull, whatever had
/// changed.
///
/// A cluster's roll-up can only change when a push to it stores changes (contributions are
/// rewritten in that push's transaction) or when the day moves on (overdue counts). So the
/// store reads the cluster's version, the sequence number of its newest log row, in the pull's
/// own transaction: with the version an entry was made at, the entry is used as it is (or
/// aggregated again from its contributions on a new day); with another, the store reads the
/// cluster's contribution rows again and only those whose text differs from the kept one are
/// decoded. Log rows are never removed (compaction blanks superseded rows' text and keeps their
/// numbers), so a version never returns once passed. It comes from the database, not from this
/// process, so a push another server node sharing a PostgreSQL store took counts too.
///
/// Memory: per cluster-shared record read by a read-only session, its contribution's text and
/// value (about 250 bytes), so 30,000 records hold about 7.5 MB; per region, the JSON of its
/// last roll-up (about 1.5 KB a cluster).
final class ClusterRollupCache: Sendable {
    private struct Key: Hashable {
        let tenant: String
        let cluster: String
    }

    private struct Entry {
        var version: Int64
        var rollup: ClusterRollup
        /// By record id: the stored text and what it decodes to (nil: a kind of row a later
        /// version wrote, which this one does not count).
        var contributions: [String: (text: String, value: RollupContribution?)]
    }

    private let entries = Mutex<[Key: Entry]>([:])

    private struct RegionKey: Hashable {
        let tenant: String
        let region: String?
    }

    private struct RegionEntry {
        var rollup: RegionRollup
        var json: JSONValue
    }

    /// Per region (tenant, for a Health Board), the JSON of the roll-up last made for it.
    private let regions = Mutex<[RegionKey: RegionEntry]>([:])

    /// The roll-up of a cluster whose contributions were last read at `version`, on `today`;
    /// nil when the cluster's contributions must be read again (`refresh`).
    func rollup(tenant: String, cluster: String, version: Int64, today: CalendarDate) -> ClusterRollup? {
        entries.withLock { entries in
            let key = Key(tenant: tenant, cluster: cluster)
            guard var entry = entries[key], entry.version == version else { return nil }
            if entry.rollup.today != today {
                entry.rollup = ClusterRollup(tenant: tenant, cluster: cluster, contributions: entry.contributions.values.compactMap(\.value), today: today)
                entries[key] = entry
            }
            return entry.rollup
        }
    }

    /// The JSON a read-only page carries of `rollup`: the same as the last made for its region
    /// when the roll-up is the same, so that sessions reading one roll-up (a sync with nothing
    /// new; every PCPG of a region woken by a push) do not encode it again:
    /// `RegionRollup.jsonValue` took about 11 ms for 20 clusters of 1,500 records, a third of a
    /// PCPG's sync with nothing new (MEASUREMENTS.md, thirty-fourth session). Comparing two
    /// roll-ups (counts, and per cluster its practices' attendance) costs far less; the roll-up,
    /// not the clusters' versions, is compared, since what a practice reads as outside its
    /// cluster also moves with the practices registered (`ClusterRollup.namingOnly`).
    func json(of rollup: RegionRollup) -> JSONValue {
        let key = RegionKey(tenant: rollup.tenant, region: rollup.region)
        if let kept = regions.withLock({ $0[key] }), kept.rollup == rollup { return kept.json }
        let json = rollup.jsonValue
        regions.withLock { $0[key] = RegionEntry(rollup: rollup, json: json) }
        return json
    }

    /// The roll-up of the cluster's contribution rows as read at `version` (record id and
    /// stored text), decoding only the texts not kept already, and keeps it.
    func refresh(tenant: String, cluster: String, version: Int64, today: CalendarDate,
                 rows: [(record: String, text: String)]) throws -> ClusterRollup {
        let key = Key(tenant: tenant, cluster: cluster)
        let kept = entries.withLock { $0[key]?.contributions } ?? [:]
        var contributions: [String: (text: String, value: RollupContribution?)] = [:]
        contributions.reserveCapacity(rows.count)
        for row in rows {
            if let old = kept[row.record], old.text == row.text {
                contributions[row.record] = old
            } else {
                contributions[row.record] = (row.text, try ServerOversight.decode(row.text))
            }
        }
        let rollup = ClusterRollup(tenant: tenant, cluster: cluster, contributions: contributions.values.compactMap(\.value), today: today)
        entries.withLock { entries in
            // A pull that read an older version does not replace a newer one's entry.
            if let current = entries[key], current.version > version { return }
            entries[key] = Entry(version: version, rollup: rollup, contributions: contributions)
        }
        return rollup
    }
}
