import ClusterSyncCore
import Logging

/// The credentials of a tenant's subscribed sessions, re-read once per wake-up and shared by
/// the sessions woken together, instead of one store read per woken session: a push to a tenant
/// with N subscribers costs one `ServerStore.credentialStates` read of N credentials, not N
/// reads. Each session judges its own credential in that read with `CredentialGate.withdrawal`,
/// the rule its own re-check before a client's message uses.
///
/// Sessions are grouped as `ChangeNotifier` wakes them: those of one cluster, and those woken by
/// every push to the tenant (`SessionIdentity.wokenByCluster` nil). A push to one cluster then
/// reads that cluster's credentials and the tenant-wide sessions', not every subscribed
/// session's of the tenant (4,000 sessions in 80 clusters: 20 ms a push, for 50 woken).
///
/// Freshness, as `SubscriptionFeed`'s: a session passes the generation of the wake-up it is
/// handling (`ChangeNotifier`) and is answered only from a read begun after that generation was
/// counted. A revocation (on this node or another sharing the store) committed before the push
/// that woke the session is therefore in the read, and the session is refused at that wake-up.
/// Expiry is judged at the session's own clock when it asks. A session whose credential the
/// read did not ask for (it subscribed while the read was under way), or a read that failed,
/// gets nil and re-checks with its own read, as before.
actor SubscribedCredentials {
    let store: any ServerStore
    let notifier: ChangeNotifier
    let logger: Logger
    private var groups: [Group: Entry] = [:]
    /// How many reads were made, for the tests that hold it to one per group per wake-up.
    private(set) var reads = 0
    /// How many credentials (ids and serials) those reads asked for, in all.
    private(set) var asked = 0

    /// Sessions woken together: a tenant's sessions of one cluster, or (cluster nil) those
    /// woken by every push to the tenant.
    struct Group: Hashable {
        var tenant: String
        var cluster: String?
    }

    private struct Entry {
        /// The credential ids and serials of the group's subscribed sessions, each with how
        /// many sessions hold it.
        var ids: [String: Int] = [:]
        var serials: [String: Int] = [:]
        var states: CredentialStates?
        /// The tenant's generation when the group's last read began.
        var readAt: UInt64 = 0
        var reading: Task<Void, Never>?
    }

    init(store: any ServerStore, notifier: ChangeNotifier, logger: Logger) {
        self.store = store
        self.notifier = notifier
        self.logger = logger
    }

    /// Adds a subscribed session's credential to those read at its group's wake-ups.
    func watch(_ subject: CredentialGate.Subject, _ group: Group) {
        guard let asked = CredentialGate.asked(subject) else { return }
        for id in asked.ids { groups[group, default: Entry()].ids[id, default: 0] += 1 }
        for serial in asked.serials { groups[group, default: Entry()].serials[serial, default: 0] += 1 }
    }

    /// How many credentials (ids and serials) of `tenant` are watched, in all its groups.
    func watched(tenant: String) -> Int {
        groups.lazy.filter { $0.key.tenant == tenant }.map { $0.value.ids.count + $0.value.serials.count }.reduce(0, +)
    }

    /// Takes a session's credential out when it stops; a group with none left holds nothing.
    func unwatch(_ subject: CredentialGate.Subject, _ group: Group) {
        guard let asked = CredentialGate.asked(subject), var entry = groups[group] else { return }
        for id in asked.ids { entry.ids[id] = entry.ids[id].flatMap { $0 > 1 ? $0 - 1 : nil } }
        for serial in asked.serials { entry.serials[serial] = entry.serials[serial].flatMap { $0 > 1 ? $0 - 1 : nil } }
        groups[group] = entry.ids.isEmpty && entry.serials.isEmpty && entry.reading == nil ? nil : entry
    }

    /// The shared read that covers `subject`'s credential, begun after wake-up `seen` of the
    /// group's tenant; nil: the session reads its own (`CredentialGate.recheck`).
    func states(for subject: CredentialGate.Subject, _ group: Group, seen: UInt64) async -> CredentialStates? {
        guard CredentialGate.asked(subject) != nil else {
            return CredentialStates(ids: [], serials: [], records: [:], revokedSerials: [])
        }
        // Twice at most: the first wait may join a read begun before `seen`, or before the
        // session's credential was watched.
        for _ in 0..<2 where !covers(group, seen, subject) {
            await refresh(group)
        }
        guard covers(group, seen, subject) else { return nil }
        return groups[group]?.states
    }

    private func covers(_ group: Group, _ seen: UInt64, _ subject: CredentialGate.Subject) -> Bool {
        guard let entry = groups[group], let states = entry.states, entry.readAt >= seen,
              let asked = CredentialGate.asked(subject) else { return false }
        return asked.ids.isSubset(of: states.ids) && asked.serials.isSubset(of: states.serials)
    }

    private func refresh(_ group: Group) async {
        if let reading = groups[group]?.reading {
            await reading.value
            return
        }
        let reading = Task { await self.read(group) }
        groups[group, default: Entry()].reading = reading
        await reading.value
    }

    private func read(_ group: Group) async {
        // Counted before the read begins: whatever was committed before a wake-up counted at or
        // before it (a push, a revocation before that push) is in the read.
        let generation = notifier.generation(of: group.tenant)
        let ids = Set(groups[group]?.ids.keys ?? [:].keys)
        let serials = Set(groups[group]?.serials.keys ?? [:].keys)
        reads += 1
        asked += ids.count + serials.count
        var states: CredentialStates?
        do {
            states = try await store.credentialStates(ids: ids, serials: serials, tenant: group.tenant)
        } catch {
            logger.error("re-reading the subscribed sessions' credentials failed", metadata: ["clustersyncd.error": "\(error)"])
        }
        guard var entry = groups[group] else { return }
        entry.reading = nil
        entry.states = states
        entry.readAt = generation
        groups[group] = entry.ids.isEmpty && entry.serials.isEmpty ? nil : entry
    }
}
