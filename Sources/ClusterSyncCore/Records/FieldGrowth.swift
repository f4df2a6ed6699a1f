/// How far one field of one record may grow: at most `maxLiveWrites` live writes (a set's
/// members, a log's notes, a map's entries together, a register's competing values).
///
/// Why: a record escalated beyond the cluster, with its linked actions and their notes, goes
/// whole to every PCPG and Health Board replica of its region, so one practice adding 200,000
/// members to a risk's `linked_actions` made every such sync carry them (9–30 s each; the
/// thirty-eighth session's security review). Each push was bounded, the record was not.
///
/// Like `LeadPowers` this is not admission: it depends on what the receiver holds, not on the
/// change alone. The server checks each pushed change against its store, and a replica each edit
/// before it reaches the outbox; a replica applies whatever it receives, so writes made
/// concurrently on several replicas may take a field past the bound, and then only writes that
/// replace one of its live writes are taken until it is back under.
public enum FieldGrowth {
    /// Far above what a cluster's records hold (a meeting's attendees, a terms of reference's
    /// members, a risk's linked actions and notes run to tens), far below what makes a sync slow.
    public static let maxLiveWrites = 1_000

    /// The most actions that may name one record as their `source`: a risk's go with it to every
    /// PCPG and Health Board replica once it is escalated, each a record of its own.
    public static let maxActionsPerSource = 1_000

    /// The fields whose live writes count together: a map's entries (`votes:KEY`) count as the
    /// map's (`votes`); any other field is its own.
    public static func group(of field: String) -> String {
        FieldMap.split(field)?.map ?? field
    }

    /// Whether `field` counts in `group`.
    public static func field(_ field: String, isIn group: String) -> Bool {
        field == group || (field.hasPrefix(group) && field.utf8.dropFirst(group.utf8.count).first == UInt8(ascii: ":"))
    }

    /// A record's group of fields.
    public struct Group: Hashable, Sendable {
        public var record: RecordID
        /// The field, or the map (`votes`) of a map entry's field.
        public var name: String
        /// Whether `name` is a map, whose entries' fields (`votes:KEY`) count together.
        public var isMap: Bool { record.type.schema.field(name)?.kind.isMap == true }

        public init(record: RecordID, field: String) {
            self.record = record
            name = FieldGrowth.group(of: field)
        }

        public init(of change: Change) {
            self.init(record: change.record, field: change.field)
        }
    }

    /// The record `change` names as its action's source, if it writes one.
    public static func sourceNamed(by change: Change) -> RecordID? {
        guard change.record.type == .action, change.field == "source", let text = change.value?.stringValue else { return nil }
        return RecordID(text)
    }

    /// What a store reads for a push, in two steps: first counted, each group of fields the push
    /// writes values to (`groups`; a store may stop counting at `maxLiveWrites`) and each record
    /// it names as an action's source (`sources`: the actions naming it; at
    /// `maxActionsPerSource`); then read in full, the live writes' ids of the groups, and the
    /// actions of the sources, that may be full by the push's end (`toRead(counted:)`). Only
    /// what is near its bound is read one by one.
    public struct PushReads: Sendable {
        /// The groups the push writes a value to, with how many values it writes to each.
        public private(set) var groups: [Group: Int] = [:]
        /// The records the push names as actions' source, with how many times.
        public private(set) var sources: [RecordID: Int] = [:]

        public init(_ changes: some Sequence<Change>) {
            for change in changes where change.value != nil {
                groups[Group(of: change), default: 0] += 1
                if let source = sourceNamed(by: change) { sources[source, default: 0] += 1 }
            }
        }

        /// The groups and sources that must be read: those that may be full for one of the
        /// push's changes, given what was counted.
        public func toRead(counted: (Group) -> Int, countedActions: (RecordID) -> Int) -> (groups: Set<Group>, sources: Set<RecordID>) {
            (Set(groups.filter { counted($0.key) + $0.value >= maxLiveWrites }.keys),
             Set(sources.filter { countedActions($0.key) + $0.value >= maxActionsPerSource }.keys))
        }
    }

    /// A live write by its field and id: a change supersedes writes of its own field only, so a
    /// map entry's write (`votes:Ceri Lloyd`) never replaces another entry's.
    public struct LiveWrite: Hashable, Sendable {
        public var field: String
        public var id: ChangeID

        public init(field: String, id: ChangeID) {
            self.field = field
            self.id = id
        }
    }

    /// What a store read (`PushReads`): the live writes of the groups, and the actions naming the
    /// sources, that may be full. What it did not read cannot be.
    public struct NearlyFull: Sendable {
        public var groups: [Group: [LiveWrite]] = [:]
        public var sources: [RecordID: Set<RecordID>] = [:]

        public init(groups: [Group: [LiveWrite]] = [:], sources: [RecordID: Set<RecordID>] = [:]) {
            self.groups = groups
            self.sources = sources
        }
    }

    /// A store's count, through one push, of what may be full: each change new to the store is
    /// checked (`admit`) against what the stored state and the push's changes before it hold,
    /// then counted in, so a push of N changes costs N look-ups, not N passes over the push.
    public struct PushTally: Sendable {
        private var groups: [Group: Set<LiveWrite>]
        private var sources: [RecordID: Set<RecordID>]

        public init(_ nearlyFull: NearlyFull) {
            groups = nearlyFull.groups.mapValues(Set.init)
            sources = nearlyFull.sources
        }

        /// Refuses `change` (new to the store) when it would take a group or a source past its
        /// bound; otherwise counts it in. Throws the refusal naming the change.
        public mutating func admit(_ change: Change) throws(PushRejection) {
            // Nearly always nothing is near its bound: then no change needs looking at.
            guard !groups.isEmpty || !sources.isEmpty else { return }
            do throws(ClusterSyncError) {
                let group = Group(of: change)
                if groups[group] != nil {
                    try check(change, live: groups[group]!, receiver: .server)
                    for id in change.supersedes { groups[group]!.remove(LiveWrite(field: change.field, id: id)) }
                    if change.value != nil { groups[group]!.insert(LiveWrite(field: change.field, id: change.id)) }
                }
                if let source = sourceNamed(by: change), sources[source] != nil {
                    try checkSource(change, source: source, actions: sources[source]!, receiver: .server)
                    sources[source]!.insert(change.record)
                }
            } catch {
                throw PushRejection(change: change.id, error: error)
            }
        }
    }

    /// Refuses `change` with `invalid-value` when its group already holds `maxLiveWrites` live
    /// writes (`live`) and it replaces none of them (a write of its own field it supersedes). A
    /// change among them (stored already) adds nothing.
    public static func check(_ change: Change, live: Set<LiveWrite>, receiver: ChangeAdmission.Receiver) throws(ClusterSyncError) {
        guard change.value != nil, live.count >= maxLiveWrites, !live.contains(LiveWrite(field: change.field, id: change.id)),
              !change.supersedes.contains(where: { live.contains(LiveWrite(field: change.field, id: $0)) })
        else { return }
        let group = group(of: change.field)
        let what = switch change.record.type.schema.field(change.field)?.kind.cardinality {
        case .set: "members"
        case .log: "notes"
        default: FieldMap.split(change.field) == nil ? "competing values" : "entries"
        }
        let holds = "\(change.record) \(group) holds \(live.count) \(what), the most one field may hold (\(maxLiveWrites))"
        throw refusal(of: change, receiver: receiver,
                      replica: "\(holds): remove some (or settle its conflict) before adding more.",
                      server: ("adds to \(holds)", "Remove some of them on a replica that holds them, then push again."))
    }

    /// A bound's refusal, as each end words it: a replica before the edit is made, a server of a
    /// change pushed (`server`: what the change does, and what to do next).
    static func refusal(of change: Change, receiver: ChangeAdmission.Receiver, replica: String,
                        server: (does: String, next: String)) -> ClusterSyncError {
        switch receiver {
        case .replica:
            ClusterSyncError(.invalidValue, "\(replica) Nothing was changed.", field: change.field)
        case .server:
            ClusterSyncError(.invalidValue,
                "change \(change.id) \(server.does) at this server; nothing of the batch was stored. \(server.next)", field: change.field)
        }
    }

    /// Refuses `change`, which names `source` as its action's source, with `invalid-value` when
    /// `actions`, those naming it at this end, already number `maxActionsPerSource` and its own
    /// action is not among them.
    public static func checkSource(_ change: Change, source: RecordID, actions: Set<RecordID>,
                                   receiver: ChangeAdmission.Receiver) throws(ClusterSyncError) {
        guard actions.count >= maxActionsPerSource, !actions.contains(change.record) else { return }
        let named = "\(actions.count) actions name \(source) as their source, the most one record may be the source of (\(maxActionsPerSource))"
        throw refusal(of: change, receiver: receiver,
                      replica: "\(named): give \(change.record) another source, or none.",
                      server: ("names \(source) as the source of \(change.record), and \(named)",
                               "Give the action another source on its replica, then push again."))
    }
}
