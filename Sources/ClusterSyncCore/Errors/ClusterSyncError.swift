/// The one error type of ClusterSync.
///
/// `code` is stable: it travels on the wire and scripts may match on it. `message` is safe to
/// show and to log: it names what was wrong and what to do next, and never contains a secret or
/// the contents of a record beyond the name of the field at fault.
public struct ClusterSyncError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A field's value is not one the field allows.
        public static let invalidValue = Code("invalid-value")
        /// The record type has no such field.
        public static let unknownField = Code("unknown-field")
        /// Free text looks like it holds a patient's NHS number.
        public static let patientData = Code("patient-data")
        /// A change or message could not be decoded.
        public static let malformed = Code("malformed")
        /// A change is stamped too far ahead of the receiver's clock.
        public static let clockSkew = Code("clock-skew")
        /// No record has that id here.
        public static let unknownRecord = Code("unknown-record")
        /// The record exists but is of another type than the command expects.
        public static let wrongType = Code("wrong-type")
        /// The operation needs a record that is not deleted.
        public static let recordDeleted = Code("record-deleted")
        /// A set-once field already has a value.
        public static let alreadySet = Code("already-set")
        /// A change does not belong to the scope it claims or the receiver serves.
        public static let forbiddenScope = Code("forbidden-scope")
        /// The replica file has not been initialised.
        public static let notInitialised = Code("not-initialised")
        /// A storage or internal failure; not the caller's fault.
        public static let `internal` = Code("internal")

        // Session errors of the line protocol (Protocol/PROTOCOL.md).

        /// A line's "type" names no message of this protocol version, or one the receiver never
        /// accepts (a client sending a server's message).
        public static let unknownMessage = Code("unknown-message")
        /// A line is longer than the receiver's `maxLineBytes`.
        public static let lineTooLong = Code("line-too-long")
        /// A push holds more changes than the server's `maxChangesPerPush`.
        public static let batchTooLarge = Code("batch-too-large")
        /// A message the session's state does not allow (anything before hello, a second hello,
        /// a pull after subscribe).
        public static let outOfOrder = Code("out-of-order")
        /// The client could not be identified (no or unknown token, unregistered certificate).
        public static let unauthenticated = Code("unauthenticated")
        /// The client speaks a protocol version the server does not.
        public static let versionUnsupported = Code("version-unsupported")
        /// A cursor points before the history the server still keeps.
        public static let cursorExpired = Code("cursor-expired")
        /// The server is shutting down; reconnect later.
        public static let shuttingDown = Code("shutting-down")
        /// A client could not reach or finish talking to its server; its local state is intact.
        public static let unreachable = Code("unreachable")
        /// The session waited too long for the client: no hello in time, or no line on a quiet
        /// session (send `ping` to keep one open).
        public static let timedOut = Code("timed-out")
        /// The credential already has as many sessions open as the server allows.
        public static let tooManyConnections = Code("too-many-connections")
        /// The server's welcome names another practice than the replica's: its credential is
        /// not this replica's (client side only; nothing was pushed).
        public static let wrongCredential = Code("wrong-credential")
        /// The server cannot write (or open) its store: read-only file system, permissions, disk
        /// full or failing. Not the client's fault, and resending will not help until an
        /// operator acts. See `plainWords`.
        public static let storeUnavailable = Code("store-unavailable")
        /// A pushed (or merged) change's signature is missing, does not verify against its
        /// maker replica's registered key, or its maker has registered no key (it never synced).
        public static let badSignature = Code("bad-signature")
        /// A hello presents another key than the one registered for its replica id, or a key
        /// registered to another practice (Protocol/PROTOCOL.md §6.2).
        public static let keyMismatch = Code("key-mismatch")
        /// The replica was retired by the server's administrator (its laptop lost, its file
        /// leaked): its hello is refused, and so is any change in its name not stored before,
        /// whoever pushes it (Protocol/PROTOCOL.md §6.2).
        public static let replicaRetired = Code("replica-retired")
        /// An edit needs the cluster lead's powers (`LeadPowers`: closing a risk or action,
        /// escalating beyond the cluster, resolving another practice's conflict, deleting a shared
        /// record) and the credential is not a cluster lead's.
        public static let leadOnly = Code("lead-only")
        /// A pushed change supersedes another replica's change that the server has not been
        /// given yet, later than any it holds of that replica (`SupersessionReach`): it waits
        /// until that replica syncs the change. The reference client holds it back and pushes
        /// it again at its next sync.
        public static let supersedesUnsynced = Code("supersedes-unsynced")

        /// What a person at a practice should read when a server answers with this code, where
        /// the server's message alone would not tell them what to do; nil for other codes. Any
        /// client shows it, so every client says the same.
        public var plainWords: String? {
            switch self {
            case .storeUnavailable:
                "The sync server cannot save changes at the moment: its storage cannot be written. "
                    + "Nothing is lost: your changes stay in this replica and will be sent by a later sync. "
                    + "Retrying now will not help; tell whoever runs the server (your Health Board's ClusterSync operators)."
            default:
                nil
            }
        }
    }

    public var code: Code
    public var message: String
    /// The field at fault, when there is one.
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }

    /// Whether the caller can fix this by changing what they asked for.
    public var isUserError: Bool { code != .internal }
}
