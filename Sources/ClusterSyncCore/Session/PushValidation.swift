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

/// The checks a server makes on a push before storing it (Protocol/PROTOCOL.md, "push"). Pure:
/// the clock is passed in.
public enum PushValidation {
    /// Checks each change in order, and for each: its scope may be accessed by `identity`
    /// (`forbidden-scope`), it is stamped at most `limits.maxClockSkewMillis` ahead of `nowMillis`
    /// (`clock-skew`), and its value passes its record type's schema (`unknown-field`,
    /// `invalid-value`, `patient-data`). Throws for the first change that fails, so the batch is
    /// refused whole.
    ///
    /// The number of changes is the state machine's concern (`batch-too-large`), and whether a
    /// record already lives in another scope is the store's.
    public static func validate(
        _ push: Push, for identity: SessionIdentity, nowMillis: Int64, limits: WireLimits
    ) throws(PushRejection) {
        let latest = nowMillis + limits.maxClockSkewMillis
        for change in push.changes {
            guard identity.mayAccess(change.scope) else {
                throw PushRejection(change: change.id, error: ClusterSyncError(
                    .forbiddenScope,
                    "change \(change.id) is for \(scopeName(change.scope)), which this session may not write; it may write \(identity.scopes.joined(separator: " and "))"))
            }
            guard change.hlc.millis <= latest else {
                throw PushRejection(change: change.id, error: ClusterSyncError(
                    .clockSkew,
                    "change \(change.id) is stamped \(change.hlc.millis - nowMillis) ms ahead of the server's clock, and at most \(limits.maxClockSkewMillis) ms is allowed: check the clock of the computer that made it",
                    field: "hlc"))
            }
            do throws(ClusterSyncError) {
                try change.recordType.schema.validate(field: change.field, value: change.value)
            } catch {
                throw PushRejection(change: change.id, error: ClusterSyncError(
                    error.code, "change \(change.id): \(error.message)", field: error.field))
            }
        }
    }

    /// A scope as `SessionIdentity.scopes` names it: `cluster:tenant/cluster` or
    /// `practice:tenant/cluster/practice`.
    /// The peer chose these strings: a long one is described, not repeated.
    static func scopeName(_ scope: RecordScope) -> String {
        let name = if let practice = scope.practice {
            "practice:\(scope.tenant)/\(scope.cluster)/\(practice)"
        } else {
            "cluster:\(scope.tenant)/\(scope.cluster)"
        }
        return name.count <= 200 ? name : "a scope named in \(name.count) characters"
    }
}
