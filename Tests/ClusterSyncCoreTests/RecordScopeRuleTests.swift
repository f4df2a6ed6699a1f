import ClusterSyncCore
import Testing

/// `ChangeAdmission.recordScope`: a record keeps the scope it was created in; a replica holding
/// several clusters (a PCPG's, a Health Board's) is told which two clusters used one id.
@Suite struct RecordScopeRuleTests {
    static func change(cluster: String, practice: String? = nil) -> Change {
        Change(id: ChangeID(replica: Fixtures.a, counter: 7), hlc: HLCTimestamp(millis: 1_000), record: Fixtures.risk,
               scope: RecordScope(tenant: "bcuhb", cluster: cluster, practice: practice), field: "title", value: .string("t"))
    }

    @Test func aRecordKeepsItsScopeAndTwoClustersOfOneIDAreNamed() {
        let shared = RecordScope(tenant: "bcuhb", cluster: "north-denbighshire")
        #expect(throws: Never.self) { try ChangeAdmission.recordScope(Self.change(cluster: "north-denbighshire"), existing: shared) }
        #expect(throws: Never.self) { try ChangeAdmission.recordScope(Self.change(cluster: "anglesey"), existing: nil) }
        #expect { try ChangeAdmission.recordScope(Self.change(cluster: "north-denbighshire", practice: "rhyl"), existing: shared) } throws: { error in
            (error as? ClusterSyncError)?.message.contains("was created cluster-shared; a record keeps the scope it was created in") == true
        }
        #expect { try ChangeAdmission.recordScope(Self.change(cluster: "anglesey"), existing: shared) } throws: { error in
            guard let error = error as? ClusterSyncError else { return false }
            return error.code == .forbiddenScope && error.message.contains("of cluster anglesey")
                && error.message.contains("a record \(Fixtures.risk) of cluster north-denbighshire") && error.message.contains("two clusters used one id")
        }
    }
}
