/// Why a push was refused: the first change at fault and what was wrong with it.
public struct PushRejection: Error, Sendable, Hashable {
    /// The change at fault, carried in the wire error's "change".
    public var change: ChangeID
    /// `forbiddenScope`, `clockSkew`, or a validation error (`unknownField`, `invalidValue`,
    /// `patientData`); its message names the change and what was wrong.
    public var error: ClusterSyncError

    public init(change: ChangeID, error: ClusterSyncError) {
        self.change = change
        self.error = error
    }
}

/// The checks a server makes on a push before storing it (Protocol/PROTOCOL.md, "push"): the
/// one admission rule (`ChangeAdmission`) on each change, with the limits announced in the
/// session's welcome. Pure: the clock is passed in.
public enum PushValidation {
    /// Checks each change in order with `ChangeAdmission(session:limits:)`: scope
    /// (`forbidden-scope`), clock (`clock-skew`), schema (`unknown-field`, `invalid-value`,
    /// `patient-data`) and structure (`invalid-value`). Throws for the first change that fails,
    /// so the batch is refused whole.
    ///
    /// The number of changes is the state machine's concern (`batch-too-large`); whether a
    /// record already lives in another scope, and whose a replica id is, are the store's
    /// (`ChangeAdmission.recordScope(_:existing:)`, `ReplicaOwnership`).
    ///
    /// Then, last (it is the costliest check), each change's signature against its maker's
    /// registered key (`ChangeSignature.verify`, `bad-signature`): `keys` holds the keys the
    /// server has registered for the makers (the replica of each change id) in the session's
    /// tenant and cluster; a maker missing from it has registered none.
    public static func validate(
        _ push: Push, for identity: SessionIdentity, nowMillis: Int64, limits: WireLimits, keys: [ReplicaID: ReplicaPublicKey]
    ) throws(PushRejection) {
        if let refusal = identity.role.writeRefusal, let first = push.changes.first {
            throw PushRejection(change: first.id, error: refusal)
        }
        let rule = ChangeAdmission(session: identity, limits: limits)
        for change in push.changes {
            do throws(ClusterSyncError) {
                try rule.check(change, nowMillis: nowMillis)
                try ChangeSignature.verify(change, key: keys[change.id.replica])
            } catch {
                throw PushRejection(change: change.id, error: error)
            }
        }
    }
}
