/// Every message of the line protocol (Protocol/PROTOCOL.md). One message is one line of
/// canonical JSON with a "type" key naming the case.
public enum WireMessage: Sendable, Equatable {
    // Client to server.
    case hello(Hello)
    case push(Push)
    case pull(Pull)
    case subscribe(Subscribe)
    case ping(Ping)
    case bye
    /// Asks for one record's changes as the server holds them (PROTOCOL.md §5.12).
    case history(HistoryRequest)
    // Server to client.
    case welcome(Welcome)
    case ack(Ack)
    case changes(ChangesPage)
    /// The answer to a pull that asks for one (`Pull.snapshot`), or continues one: the
    /// materialised state of the session's scopes, paged (PROTOCOL.md §5.7).
    case snapshot(Snapshot)
    /// The answer to `history`.
    case historyPage(HistoryPage)
    case subscribed(Subscribed)
    case pong(Ping)
    case error(WireError)
}

/// The protocol version this code speaks.
public enum ProtocolVersion {
    public static let current = 1
}

public struct Hello: Sendable, Equatable {
    public var version: Int
    public var replica: ReplicaID
    /// A bearer token, when the client has no certificate.
    public var token: String?
    /// Free text naming the client software, for the server's logs.
    public var client: String?
    /// The replica's public signing key (PROTOCOL.md §6.2): registered to the credential's
    /// practice and person the first time it is presented. Absent from clients older than
    /// signed changes, which can then pull but not push.
    public var key: ReplicaPublicKey?

    public init(version: Int = ProtocolVersion.current, replica: ReplicaID, token: String? = nil, client: String? = nil,
                key: ReplicaPublicKey? = nil) {
        self.version = version
        self.replica = replica
        self.token = token
        self.client = client
        self.key = key
    }
}

/// Who the server says the client is, and what it may do.
///
/// A `practice` or `cluster-lead` identity names its tenant, cluster and practice. A `pcpg`
/// identity names its tenant and `region`, a `health-board` one its tenant only: their `cluster`
/// and `practice` are empty (absent on the wire), so no scope check ever matches them
/// (`CredentialRole`).
public struct SessionIdentity: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var tenant: String
    /// Empty for `pcpg` and `health-board`.
    public var cluster: String
    /// Empty for `pcpg` and `health-board`.
    public var practice: String
    /// The name the server stamps on every change this session pushes.
    public var author: String
    /// What the credential may do; `practice` unless the server says otherwise.
    public var role: CredentialRole
    /// The region of a `pcpg` identity; nil for every other role.
    public var region: String?

    public init(tenant: String, cluster: String, practice: String, author: String, role: CredentialRole = .practice, region: String? = nil) {
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
        self.author = author
        self.role = role
        self.region = region
    }

    /// A `pcpg` identity (one region of a tenant) or a `health-board` one (the whole tenant):
    /// no cluster, no practice.
    public static func oversight(tenant: String, role: CredentialRole, region: String?, author: String) -> SessionIdentity {
        precondition(role.isReadOnly, "oversight identities are pcpg or health-board")
        return SessionIdentity(tenant: tenant, cluster: "", practice: "", author: author, role: role,
                               region: role.needsRegion ? region : nil)
    }

    /// The one cluster whose pushes can change what this identity reads (its scopes), or nil
    /// when a push to any cluster of its tenant can: a read-only role reads escalations and
    /// roll-ups across its region or tenant. The server wakes a subscription only for pushes
    /// that concern it.
    public var wokenByCluster: String? { role.isPractice ? cluster : nil }

    /// The scopes granted: the cluster's shared records and the practice's own. A read-only
    /// role reads (and may push to none) `escalated:` (the risks escalated to it and their
    /// actions, in full) and `rollup:` (its clusters' counts) of its region or tenant
    /// (PROTOCOL.md §7.1).
    public var scopes: [String] {
        guard role.isPractice else {
            let reach = region.map { "\(tenant)/\($0)" } ?? tenant
            return ["escalated:\(reach)", "rollup:\(reach)"]
        }
        return ["cluster:\(tenant)/\(cluster)", "practice:\(tenant)/\(cluster)/\(practice)"]
    }

    /// Whether this identity may read and write a record of `scope`. Never for `pcpg` and
    /// `health-board`: their reads are not changes of a practice's records.
    public func mayAccess(_ scope: RecordScope) -> Bool {
        role.isPractice && ChangeAdmission.holds(scope, tenant: tenant, cluster: cluster, practice: practice)
    }

    /// `bcuhb/north-denbighshire/rhyl`, `bcuhb/north-denbighshire/rhyl (cluster-lead)`,
    /// `bcuhb region conwy (pcpg)`, `bcuhb (health-board)`: for logs.
    public var description: String {
        switch role {
        case .practice: "\(tenant)/\(cluster)/\(practice)"
        case .clusterLead: "\(tenant)/\(cluster)/\(practice) (cluster-lead)"
        case .pcpg: "\(tenant) region \(region ?? "?") (pcpg)"
        case .healthBoard: "\(tenant) (health-board)"
        }
    }
}

/// The limits a server enforces, announced in `welcome`.
public struct WireLimits: Sendable, Equatable {
    /// The longest line accepted, newline included.
    public var maxLineBytes: Int
    /// The most changes in one push.
    public var maxChangesPerPush: Int
    /// The most changes in one page of `changes`. The default, 2,500, lets the page's text
    /// budget (1 MiB, `PageBudget`) be what ends a page of ordinary changes (about 400 bytes
    /// each): a replica writes each page in one transaction, and a replay in pages of 1,000
    /// spent about 8% more time writing them (MEASUREMENTS.md, thirty-third session).
    public var maxChangesPerPage: Int
    /// How far ahead of the server's clock a change may be stamped.
    public var maxClockSkewMillis: Int64
    /// How long the server keeps a welcomed session open without a line from the client; 0 for
    /// no limit (and from a server that does not announce one). A client on a quiet session sends
    /// `ping` well within it.
    public var idleTimeoutMillis: Int64

    public init(maxLineBytes: Int = 4 * 1024 * 1024, maxChangesPerPush: Int = 1_000, maxChangesPerPage: Int = 2_500,
                maxClockSkewMillis: Int64 = ClockPolicy.maximumSkewMillis, idleTimeoutMillis: Int64 = 300_000) {
        self.maxLineBytes = maxLineBytes
        self.maxChangesPerPush = maxChangesPerPush
        self.maxChangesPerPage = maxChangesPerPage
        self.maxClockSkewMillis = maxClockSkewMillis
        self.idleTimeoutMillis = idleTimeoutMillis
    }

    public static let `default` = WireLimits()

    /// The values a server may announce: its settings are held to them, and a client refuses a
    /// welcome outside them (a `maxLineBytes` of 12 held back every change of the outbox as too
    /// long for a line; a `maxChangesPerPush` of 0 read the outbox as empty). A clock limit above
    /// `clockSkewMillis` (a server of an earlier version may be set to one) is not refused: the
    /// replica takes it as the range's top (`Replica.admissionRule`), since an enormous one let
    /// a change stamped years ahead pin the replica's clock there.
    public static let lineBytes = 1_024...Int(Int32.max)
    public static let clockSkewMillis: ClosedRange<Int64> = 1_000...ClockPolicy.largestSkewMillis

    /// What is outside those ranges, in words; nil when nothing is.
    public var outOfRange: String? {
        if !Self.lineBytes.contains(maxLineBytes) { return "maxLineBytes \(maxLineBytes) is outside \(Self.lineBytes.lowerBound)...\(Self.lineBytes.upperBound)" }
        if maxChangesPerPush < 1 { return "maxChangesPerPush \(maxChangesPerPush) is below 1" }
        if maxChangesPerPage < 1 { return "maxChangesPerPage \(maxChangesPerPage) is below 1" }
        if maxClockSkewMillis < Self.clockSkewMillis.lowerBound {
            return "maxClockSkewMillis \(maxClockSkewMillis) is below \(Self.clockSkewMillis.lowerBound)"
        }
        if idleTimeoutMillis < 0 { return "idleTimeoutMillis \(idleTimeoutMillis) is below 0" }
        return nil
    }
}

public struct Welcome: Sendable, Equatable {
    public var version: Int
    public var identity: SessionIdentity
    public var scopes: [String]
    public var limits: WireLimits
    public var server: String
    /// When the session's credential stops opening sessions (ms since 1970); nil: it does not
    /// expire, or the server does not say. On the wire: `credentialExpiresAt`, absent when nil.
    public var credentialExpiresAt: Int64?
    /// The identity of the server's store: made when the store is created and made again when
    /// a backup is restored (PROTOCOL.md §5.2). A client that sees it change knows the stream it
    /// held a cursor in is gone: it pushes its own changes again and pulls from the start.
    /// On the wire: `store`, absent when nil (servers before it).
    public var store: String?
    /// The head of the tenant's tamper-evident chain when the session began (PROTOCOL.md §15):
    /// a replica keeps the last one it was told, so a head the server gave out is held outside
    /// the server, and `clustersyncd verify --expect-head` can check the chain still holds it.
    /// On the wire: `head`, `seq:hash`, absent when nil (no change yet, or a server before it).
    public var head: LedgerHead?

    /// Whether `text` can be a store identity: 1 to 64 lowercase ASCII letters, digits or '-'.
    /// Stores make 32 hex digits; the bound keeps what a client stores beside its cursor small
    /// and printable whatever a server sends.
    public static func isStoreIdentity(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) || $0 == UInt8(ascii: "-") }
    }

    public init(version: Int = ProtocolVersion.current, identity: SessionIdentity, limits: WireLimits, server: String) {
        self.version = version
        self.identity = identity
        self.scopes = identity.scopes
        self.limits = limits
        self.server = server
    }
}

public struct Push: Sendable, Equatable {
    /// Chosen by the client, echoed in the ack or error so it can match them.
    public var batch: String
    public var changes: [Change]

    public init(batch: String, changes: [Change]) {
        self.batch = batch
        self.changes = changes
    }

    /// The most `sup` and `seen` entries the changes of one push may hold together (PROTOCOL.md
    /// §10). Each costs the store's one writer, which every tenant shares, a lookup, an update or
    /// a row; a change may name 1,000 superseded (`Change.maxSupersedes`) and 4,096 seen, so
    /// without this a push of made-up ids held every tenant's pushes for seconds. `seen` counts
    /// since the forty-sixth session, when the server began to look each one up
    /// (`SupersessionReach`). Ordinary pushes name one a change.
    public static let maxSupersedes = 10_000

    /// The ids a change names that count toward `maxSupersedes`.
    static func namedCount(_ change: Change) -> Int { change.supersedes.count + change.seen.count }

    public var supersedeCount: Int { changes.reduce(0) { $0 + Self.namedCount($1) } }

    /// What a push line holds besides its changes' texts and the commas between them
    /// (`{"batch":"…","changes":[…],"type":"push"}` and the newline), with room to spare for any
    /// batch name a client makes.
    public static let lineOverheadBytes = 128

    /// The longest prefix of `changes` that one push carries, the rest going in the next: its
    /// `sup` and `seen` entries within `maxSupersedes` (at least one change, whatever it names),
    /// and its line within `maxLineBytes`, the server's (a thousand meetings' minutes make a
    /// line of megabytes: counted in changes alone, the server refused it `line-too-long`, and
    /// the next sync read the same thousand again). Empty only when the first change's text
    /// alone makes a line longer than `maxLineBytes`, which no push can carry.
    public static func fitting(_ changes: [Change], maxLineBytes: Int = .max) -> ArraySlice<Change> {
        // First the ids the push may name, then its line within those.
        var ids = 0
        var cut = changes.count
        for (index, change) in changes.enumerated() {
            ids += namedCount(change)
            if ids > maxSupersedes {
                cut = max(index, 1)
                break
            }
        }
        let named = changes.prefix(cut)
        // Ordinary changes (a few hundred bytes each) fit by their bound, so their texts are made
        // once, when the push is encoded; only a push near the line's length is measured.
        guard named.reduce(lineOverheadBytes, { $0 + textBytesBound($1) + 1 }) > maxLineBytes else { return named }
        var bytes = lineOverheadBytes
        for (index, change) in named.enumerated() {
            bytes += change.jsonText.utf8.count + 1
            if bytes > maxLineBytes { return named.prefix(index) }
        }
        return named
    }

    /// At least the bytes of `change.jsonText`, worked out without writing it: every byte of
    /// its strings escaped as `\u00XX` at worst, ids and numbers at their longest.
    public static func textBytesBound(_ change: Change) -> Int {
        func string(_ s: String) -> Int { 2 + 6 * s.utf8.count }
        func value(_ v: JSONValue) -> Int {
            switch v {
            case .null, .bool: 5
            case .int, .double: 32
            case .string(let s): string(s)
            case .array(let items): items.reduce(2) { $0 + value($1) + 1 }
            case .object(let entries): entries.reduce(2) { $0 + string($1.key) + value($1.value) + 2 }
            }
        }
        // Keys, an id, an HLC, a record id, a signature and punctuation: far under 400 bytes.
        return 400 + string(change.scope.tenant) + string(change.scope.cluster) + (change.scope.practice.map(string) ?? 0)
            + string(change.field) + (change.author.map(string) ?? 0) + (change.value.map(value) ?? 0)
            + 48 * (change.supersedes.count + change.seen.count)
    }

    /// Why `change` is held back when its text alone is longer than a line of `maxLineBytes`.
    public static func tooLongForALine(_ change: Change, maxLineBytes: Int) -> String {
        "its text is \(change.jsonText.utf8.count) bytes, and the server takes lines of at most \(maxLineBytes) bytes: "
            + "make the \(change.field) of \(change.record) shorter (its other fields and records sync as usual)"
    }
}

public struct Ack: Sendable, Equatable {
    public var batch: String
    /// Changes stored for the first time.
    public var accepted: Int
    /// Changes the server already had (a resent batch).
    public var duplicates: Int
    /// The author the server stamped on the batch's changes.
    public var author: String
    /// Of the duplicates, the writes the server holds superseded (PROTOCOL.md §5.4): a replica
    /// that took a snapshot lacks the history that superseded them, and would otherwise keep a
    /// stale copy handed over by `merge` live for good.
    public var superseded: [ChangeID]

    public init(batch: String, accepted: Int, duplicates: Int, author: String, superseded: [ChangeID] = []) {
        self.batch = batch
        self.accepted = accepted
        self.duplicates = duplicates
        self.author = author
        self.superseded = superseded
    }
}

/// An opaque position in a tenant's change stream. Clients store it and send it back; only the
/// server reads it. `nil` means "from the beginning".
public struct Cursor: Sendable, Equatable, Hashable {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

public struct Pull: Sendable, Equatable {
    public var cursor: Cursor?
    public var limit: Int?
    /// Asks for the current state instead of the history (PROTOCOL.md §5.7): with no cursor, the
    /// first page of a snapshot. On the wire `"snapshot":true`, absent when false.
    public var snapshot: Bool

    public init(cursor: Cursor?, limit: Int? = nil, snapshot: Bool = false) {
        self.cursor = cursor
        self.limit = limit
        self.snapshot = snapshot
    }
}

/// `history`: one record's changes as the server holds them, paged (PROTOCOL.md §5.12).
public struct HistoryRequest: Sendable, Equatable {
    public var record: RecordID
    /// The `cursor` of the previous `history-page` of this record; nil for the first page.
    public var cursor: Cursor?
    public var limit: Int?

    public init(record: RecordID, cursor: Cursor? = nil, limit: Int? = nil) {
        self.record = record
        self.cursor = cursor
        self.limit = limit
    }
}

/// `history-page`: a page of one record's changes, in the server's storage order (a client
/// sorts them by clock to show them).
public struct HistoryPage: Sendable, Equatable {
    public var record: RecordID
    public var changes: [Change]
    public var cursor: Cursor
    public var more: Bool
    /// Whether the server has compacted the tenant's log: changes superseded before the
    /// compaction horizon are gone from it, and so from this history. Absent on the wire when false.
    public var compacted: Bool

    public init(record: RecordID, changes: [Change], cursor: Cursor, more: Bool, compacted: Bool = false) {
        self.record = record
        self.changes = changes
        self.cursor = cursor
        self.more = more
        self.compacted = compacted
    }
}

public struct ChangesPage: Sendable, Equatable {
    public var changes: [Change]
    /// Where the next pull starts.
    public var cursor: Cursor
    /// Whether more changes wait beyond this page.
    public var more: Bool
    /// Changes of the page that this version cannot decode, sent and received after `changes`:
    /// a replica sets them aside instead of refusing the page (Protocol/changes.md §8). A server
    /// sends as they are the rows of its log it cannot read (stored by an older version).
    public var unreadable: [UnreadableChange]
    /// For a read-only (`pcpg`, `health-board`) session only: its roll-up and the records it may
    /// hold in full (PROTOCOL.md §7.1). nil on a practice's pages.
    public var oversight: OversightPage?
    /// Changes as the canonical text a server stored them in, written into the page as they are
    /// (after `changes`, before `unreadable`): a server sends its log's rows without decoding and
    /// re-encoding each for every puller. Each is one JSON object on no more than one line. A
    /// decoded page has none (its changes are in `changes` and `unreadable`).
    public var storedTexts: [String]

    public init(changes: [Change], cursor: Cursor, more: Bool, unreadable: [UnreadableChange] = [], oversight: OversightPage? = nil) {
        self.changes = changes
        self.cursor = cursor
        self.more = more
        self.unreadable = unreadable
        self.oversight = oversight
        self.storedTexts = []
    }

    /// A page of stored texts only (`storedTexts`).
    public init(storedTexts: [String], cursor: Cursor, more: Bool) {
        self.init(changes: [], cursor: cursor, more: more)
        self.storedTexts = storedTexts
    }

    /// How many changes the page carries, decoded, stored or unreadable.
    public var count: Int { changes.count + storedTexts.count + unreadable.count }
}

/// A change received in a page that does not decode: its JSON text and why.
public struct UnreadableChange: Sendable, Equatable {
    /// The element's JSON text (valid JSON: it is written into a page as it is).
    public var text: String
    /// The `malformed` error decoding it gave.
    public var error: ClusterSyncError

    public init(text: String, error: ClusterSyncError) {
        self.text = text
        self.error = error
    }
}

/// A snapshot is paged like changes: the changes that rebuild current state, then `more`.
public typealias Snapshot = ChangesPage

public struct Subscribe: Sendable, Equatable {
    public var cursor: Cursor?
    public init(cursor: Cursor?) { self.cursor = cursor }
}

public struct Subscribed: Sendable, Equatable {
    public var cursor: Cursor
    public init(cursor: Cursor) { self.cursor = cursor }
}

public struct Ping: Sendable, Equatable {
    public var nonce: String?
    public init(nonce: String? = nil) { self.nonce = nonce }
}

/// An error on the wire: a stable code, a message for a person, and whether the server closes
/// the session after sending it.
public struct WireError: Sendable, Equatable, Error {
    public var code: String
    public var message: String
    public var fatal: Bool
    /// The push batch the error answers, if any.
    public var batch: String?
    /// The change at fault, if any.
    public var change: ChangeID?

    public init(code: String, message: String, fatal: Bool, batch: String? = nil, change: ChangeID? = nil) {
        self.code = code
        self.message = message
        self.fatal = fatal
        self.batch = batch
        self.change = change
    }
}
