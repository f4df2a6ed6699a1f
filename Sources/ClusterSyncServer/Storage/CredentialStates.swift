import ClusterSyncCore

/// Many credentials of one tenant as one read found them (`ServerStore.credentialStates`): what
/// the sessions a push wakes are re-checked against, so that a tenant's wake-up costs one store
/// read instead of one per session. The rule applied to it is `CredentialGate.withdrawal`.
public struct CredentialStates: Sendable, Equatable {
    /// The ids asked for, each with its record; an id asked for and absent no longer exists.
    public var records: [String: CredentialRecord]
    /// The serials asked for that are on the tenant's revocation list.
    public var revokedSerials: Set<String>
    /// What was asked for, so a reader can tell "not found" from "not asked".
    public var ids: Set<String>
    public var serials: Set<String>

    public init(ids: Set<String>, serials: Set<String>, records: [String: CredentialRecord], revokedSerials: Set<String>) {
        self.ids = ids
        self.serials = serials
        self.records = records
        self.revokedSerials = revokedSerials
    }
}

extension ServerStore {
    /// One read per credential: for stores without a batched read (the in-memory test store).
    public func credentialStates(ids: Set<String>, serials: Set<String>, tenant: String) async throws -> CredentialStates {
        var records: [String: CredentialRecord] = [:]
        for id in ids {
            if let record = try await credential(id: id), record.practice.tenant == tenant { records[id] = record }
        }
        var revoked: Set<String> = []
        for serial in serials {
            if try await isRevoked(serial: serial, tenant: tenant) { revoked.insert(serial) }
        }
        return CredentialStates(ids: ids, serials: serials, records: records, revokedSerials: revoked)
    }
}
