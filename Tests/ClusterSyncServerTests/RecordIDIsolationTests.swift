import ClusterSyncCore
import ClusterSyncServer
import Testing

/// A record's id is unique within its tenant (`ChangeAdmission.idTakenInAnotherCluster`), on
/// every store: a PCPG's or Health Board's replica holds several clusters' records by id alone,
/// so a client of another cluster creating a record under an escalated risk's id (the scope
/// audit did it with a hand-written client) would have one of the two set aside there.
@Suite struct RecordIDIsolationTests {
    static let risk = RecordID("RSK-7K3M9Q2X1A")!

    static func change(_ replica: String, _ counter: Int64, cluster: String, tenant: String = "bcuhb", _ field: String, _ value: String,
                       practice: String? = nil) -> Change {
        Change(id: ChangeID(replica: ReplicaID(replica)!, counter: counter), hlc: HLCTimestamp(millis: 1_795_000_000_000 + counter),
               record: risk, scope: RecordScope(tenant: tenant, cluster: cluster, practice: practice), field: field, value: .string(value))
    }

    static func lead(_ cluster: String, tenant: String = "bcuhb") -> SessionIdentity {
        SessionIdentity(tenant: tenant, cluster: cluster, practice: cluster + "-1", author: cluster, role: .clusterLead)
    }

    @Test(arguments: StoreBackend.available) func aRecordIDTakenInAnotherClusterOfTheTenantIsRefused(kind: StoreBackend) async throws {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addTenant("cvuhb")
        for (cluster, tenant) in [("north-denbighshire", "bcuhb"), ("anglesey", "bcuhb"), ("city", "cvuhb")] {
            try await store.addCluster(cluster, tenant: tenant)
            try await store.addPractice(cluster + "-1", cluster: cluster, tenant: tenant)
        }
        let nd = "north-denbighshire"
        #expect(try await store.push([Self.change("00000000000000a1", 1, cluster: nd, "title", "Winter locum gap"),
                                      Self.change("00000000000000a1", 2, cluster: nd, "escalation", "health-board")],
                                     as: Self.lead(nd)) == PushOutcome(accepted: 2, duplicates: 0))

        // Another cluster of the tenant creates a record of that id, shared or private: refused,
        // the whole push (its other change too), without saying which cluster holds the id.
        for practice in [nil, "anglesey-1"] {
            let forged = Self.change("00000000000000b2", 2, cluster: "anglesey", "title", "Not the Board's risk", practice: practice)
            let refused = await #expect(throws: PushRejection.self) {
                try await store.push([Self.change("00000000000000b2", 1, cluster: "anglesey", "title", "x").withRecord("RSK-2B4D6F8H0J"), forged],
                                     as: Self.lead("anglesey"))
            }
            #expect(refused?.change == forged.id && refused?.error.code == .forbiddenScope, "\(kind): \(String(describing: refused))")
            #expect(refused?.error.message.contains("a record's id is unique within its Health Board") == true)
            #expect(refused?.error.message.contains(nd) == false, "the message names no other cluster")
        }
        #expect(try await store.pull(for: Self.lead("anglesey"), after: nil, limit: 100).changes.isEmpty, "nothing of either push was kept")

        // The cluster that holds it edits on; another tenant's ids are its own.
        #expect(try await store.push([Self.change("00000000000000a1", 3, cluster: nd, "owner", "Cluster lead")], as: Self.lead(nd))
            == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.push([Self.change("00000000000000c3", 1, cluster: "city", tenant: "cvuhb", "title", "Estates")],
                                     as: Self.lead("city", tenant: "cvuhb")) == PushOutcome(accepted: 1, duplicates: 0))
    }
}

extension Change {
    func withRecord(_ id: String) -> Change {
        var change = self
        change.record = RecordID(id)!
        return change
    }
}
