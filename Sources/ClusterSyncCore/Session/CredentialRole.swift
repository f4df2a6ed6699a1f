/// What a credential may do (Protocol/PROTOCOL.md §3, "Roles"). The spelling (`rawValue`) is
/// the same on the wire (`welcome.role`), on the command line (`credential issue --role`) and in
/// both stores.
///
/// - `practice`: today's credential: one practice of one cluster, reading and writing its
///   cluster's shared records and its own private ones.
/// - `cluster-lead`: a practice credential that also carries the cluster lead's powers
///   (`LeadPowers`: closing a risk or action, escalating beyond the cluster, resolving another
///   practice's conflict, deleting a shared record).
/// - `pcpg`: a Pan Cluster Planning Group's: one region (a county's clusters) of a tenant,
///   read-only.
/// - `health-board`: the Health Board's: the whole tenant, read-only.
///
/// A `pcpg` or `health-board` identity names no cluster and no practice: its `cluster` and
/// `practice` are empty, and since no record scope has an empty name, every scope check
/// (`ChangeAdmission.holds`) refuses it whatever else it is asked.
public enum CredentialRole: String, Sendable, Hashable, CaseIterable, CustomStringConvertible, TypedChoice {
    case practice
    case clusterLead = "cluster-lead"
    case pcpg
    case healthBoard = "health-board"

    public var description: String { rawValue }

    public static let choiceName = "role"
    public static let choiceField = "role"

    /// Whether the credential stands for one practice (and reads and writes its cluster's and its
    /// own records): `practice` and `cluster-lead`.
    public var isPractice: Bool { self == .practice || self == .clusterLead }

    /// Whether every write is refused: `pcpg` and `health-board`.
    public var isReadOnly: Bool { !isPractice }

    /// Whether the credential carries the cluster lead's powers (`LeadPowers`).
    public var hasLeadPowers: Bool { self == .clusterLead }

    /// Whether a credential of this role is issued for one region of its tenant (`pcpg`).
    public var needsRegion: Bool { self == .pcpg }

    /// "a pcpg credential", "a cluster-lead credential".
    public var credentialName: String { "a \(rawValue) credential" }

    /// The refusal of a write (a push) by a read-only role: `forbidden-scope`, naming the role.
    /// nil for the roles that may write.
    public var writeRefusal: ClusterSyncError? {
        guard isReadOnly else { return nil }
        let reach = self == .pcpg ? "its region's" : "its Health Board's"
        return ClusterSyncError(.forbiddenScope,
            "\(credentialName) is read-only: it may not push changes, and nothing was stored. It is for reading \(reach) "
            + "clusters; edits are made with a practice's or a cluster lead's credential")
    }
}
