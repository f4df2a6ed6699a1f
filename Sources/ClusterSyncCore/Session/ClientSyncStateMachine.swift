/// A practice's side of syncing with the server (Protocol/PROTOCOL.md §14): events in, actions
/// out, no I/O.
///
/// One sync: connect, `hello`, check that the `welcome` names this replica's practice, push the
/// outbox (two batches in flight, each leaving the outbox only on its `ack`), pull until `more`
/// is false, `bye` (sent before that last page is applied). The first pull goes out once the outbox is read to its end, without waiting
/// for the last acks: the server answers in the order it was asked (PROTOCOL.md §1 and §14), so
/// the acks come first and the page it reads after them holds the pushed changes.
/// A watch goes on from there: `subscribe`, apply what the server sends, push
/// local edits every `pollMillis`, `ping` a line that has been quiet for `pingMillis` and treat a
/// missing `pong` after `pongTimeoutMillis` as a dead connection; when the connection dies or the
/// server restarts it reconnects with jittered exponential backoff and resumes from its cursor.
///
/// The driver (`SyncClient`) performs each action in order, and feeds back what happened: the
/// connection's fate, every message received, every outbox read it was asked for, and a `tick`
/// at least every `tickMillis`. After `close` it feeds nothing more from that connection.
public struct ClientSyncStateMachine: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Push, pull until caught up, then stop.
        case once
        /// Stay connected until cancelled, reconnecting whenever the connection is lost.
        case watch
        /// Fetch one record's changes as the server holds them (PROTOCOL.md §5.12), pushing and
        /// pulling nothing: for `history` on a replica bootstrapped from a snapshot.
        case history(RecordID)
    }

    public struct Configuration: Sendable {
        public var mode: Mode
        /// This replica: the one whose changes the server stamps with the session's author.
        public var replica: ReplicaID
        /// The practice this replica belongs to; a welcome naming another stops the sync.
        public var tenant: String
        public var cluster: String
        public var practice: String
        /// The credential as a person would name it ("the token in rhyl.token").
        public var credential: String
        /// The server as a person would name it ("sync.example.nhs.wales:7443").
        public var server: String
        public var maxBatchesInFlight = 2
        public var pingMillis: Int64 = 20_000
        public var pongTimeoutMillis: Int64 = 10_000
        public var pollMillis: Int64 = 2_000
        public var reconnectBaseMillis: Int64 = 500
        public var reconnectMaxMillis: Int64 = 30_000
        /// Seeds the backoff jitter (tests fix it; the client picks a random one).
        public var seed: UInt64 = 0x5EED
        /// A read-only replica's role (`pcpg`, `health-board`) and a pcpg's region: its welcome
        /// must grant exactly that. `practice` for a practice's replica (either practice role).
        public var role: CredentialRole = .practice
        public var region: String?
        /// The server store this replica last synced with (`welcome.store`); nil before the
        /// first welcome that named one.
        public var knownStore: String?
        /// Relayed changes wait in the outbox for their makers' keys: the pull may bring the
        /// news that a server registered them, so a sync reads the outbox again after it.
        public var relaysWaiting = false

        public init(mode: Mode, replica: ReplicaID, tenant: String, cluster: String, practice: String,
                    credential: String, server: String) {
            self.mode = mode
            self.replica = replica
            self.tenant = tenant
            self.cluster = cluster
            self.practice = practice
            self.credential = credential
            self.server = server
        }

        /// How often the driver must send `tick`: often enough for every timer to fire on time.
        public var tickMillis: Int64 { max(10, min(pingMillis, pongTimeoutMillis, pollMillis) / 4) }
    }

    public struct Progress: Sendable, Equatable {
        public var pushed = 0
        public var toPush = 0
        public var pulled = 0
        public var more = false
        public init() {}
    }

    public struct Summary: Sendable, Equatable {
        /// Changes the server stored for the first time.
        public var pushed = 0
        /// Changes the server already had.
        public var duplicates = 0
        /// The author the server stamps on this replica's changes.
        public var author: String?
        /// The server's store was not the one this replica last synced with (restored from a
        /// backup, or another server): its changes were pushed again and the stream pulled from
        /// its start.
        public var storeReplaced = false
        public init() {}
    }

    /// Why a connection could not be used, in words the driver chose (it knows the socket).
    public struct ConnectionProblem: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// Refused, reset, closed, timed out: worth retrying.
            case lost
            /// The TLS handshake was refused (certificate, CA): retrying will not help.
            case rejected
        }

        public var kind: Kind
        public var message: String

        public init(_ kind: Kind, _ message: String) {
            self.kind = kind
            self.message = message
        }
    }

    public enum Event: Sendable, Equatable {
        /// The TCP connection is up (TLS follows with the first line written).
        case connected
        case connectFailed(ConnectionProblem)
        case received(WireMessage)
        /// The connection ended or broke (end of stream, reset, a line that is not a message).
        case connectionLost(ConnectionProblem)
        /// The answer to `readOutbox`.
        case outboxRead([Change])
        /// Time passed; timers are checked.
        case tick
    }

    /// What a watch tells the person running it.
    public enum Notice: Sendable, Equatable {
        /// Caught up and subscribed; changes now arrive as others push them.
        case watching(author: String)
        /// The connection is gone; the next attempt starts after `retryMillis`.
        case reconnecting(reason: String, retryMillis: Int64)
    }

    public enum Action: Sendable, Equatable {
        /// Open a connection after waiting `afterMillis`; then feed `connected` or `connectFailed`.
        case connect(afterMillis: Int64)
        /// Send `hello` for this replica, with the token if the credential is one.
        case sendHello
        case send(WireMessage)
        /// Read at most `limit` changes of the outbox after `after` (nil: from the start); then
        /// feed `outboxRead`.
        case readOutbox(after: ChangeID?, limit: Int)
        /// The server stored these changes: drop them from the outbox, and record `author` on
        /// those this replica made (the server stamped it on them). `superseded`: those of them
        /// the server already had and holds superseded (`Ack.superseded`), dead here too.
        case acknowledge([ChangeID], author: String, superseded: [ChangeID] = [])
        /// The server refused this change of the outbox for what it is (its scope, its content, its
        /// maker): take it out of the outbox and keep it, with the refusal, where `status` shows
        /// it. The session then starts again and pushes the rest: one refused change never stops
        /// a practice's sync.
        case holdBack(ChangeID, code: String, reason: String)
        /// Keep the limits the server announced (the replica admits changes by the same clock
        /// limit as the server).
        case rememberLimits(WireLimits)
        /// The welcome named a server store this replica has not synced with. Keep its identity;
        /// if the replica knew another (`replaced`: the server was restored from a backup, or
        /// is another server), in the same transaction put every change this replica made back
        /// into the outbox (the new store may lack those acknowledged after its backup) and set
        /// the cursor to the machine's `cursor` (`StreamCursor.cursor(at: 0)` for a practice), so
        /// the pull replays the stream from its start (PROTOCOL.md §5.2). Before the outbox is read.
        case rememberStore(String, replaced: Bool)
        /// Apply the page and store its cursor, in one transaction.
        case apply(ChangesPage)
        /// Apply a snapshot page and store its cursor, in one transaction; the `first` page of a
        /// snapshot replaces the replica's state (keeping what it has not pushed) before it is
        /// applied (PROTOCOL.md §5.7).
        case applySnapshot(Snapshot, first: Bool)
        /// A page of the record's history the `history` mode asked for; keep its changes.
        case keepHistory(HistoryPage)
        case recordSuccessfulSync
        case progress(Progress)
        case notice(Notice)
        /// Close the connection (after the sends before it); feed nothing more from it.
        case close
        /// The sync is done (once mode).
        case finish(Summary)
        /// Stop with this error.
        case fail(ClusterSyncError)
    }

    enum Phase: Sendable, Equatable {
        case connecting
        case awaitingWelcome
        case pushing
        case pulling
        case subscribing
        case streaming
        case fetchingHistory
        case done
    }

    struct Batch: Sendable, Equatable {
        var name: String
        var ids: [ChangeID]
    }

    public let configuration: Configuration
    private(set) var phase: Phase = .connecting
    public private(set) var cursor: Cursor?
    /// The server's welcome, once it has come.
    public private(set) var welcome: Welcome?
    private var inFlight: [Batch] = []
    private var position: ChangeID?
    private var drained = false
    private var readingOutbox = false
    private var batchNumber = 0
    private var pingNumber = 0
    private var now: Int64 = 0
    private var connectedAt: Int64 = 0
    private var lastReceivedAt: Int64 = 0
    private var pingSentAt: Int64?
    private var lastSentAt: Int64 = 0
    private var lastPollAt: Int64 = 0
    private var failedAttempts = 0
    private var random: UInt64
    private var summary = Summary()
    private var progress = Progress()
    /// Changes held back during this run: one refused again was not taken out of the outbox,
    /// so the run stops rather than loop.
    private var heldBack: Set<ChangeID> = []
    /// Those of `heldBack` refused as `supersedes-unsynced`: the replica puts one back in the
    /// outbox when a pulled page brings the change it waited for, so after a page that brings
    /// changes each may be pushed, and refused, once more (a change holding back failed to take
    /// out of the outbox is then pushed again once a page, not once: bounded by what others push).
    private var awaitingHeld: Set<ChangeID> = []
    /// A page brought changes since a change was held back as `supersedes-unsynced`: a one-off
    /// sync reads its outbox again after its last page, for what the page made pushable.
    private var pageAfterAwaitingHeld = false
    /// The pull in flight asked for a snapshot from the start: its answer is a first page.
    private var awaitingFirstSnapshotPage = false
    /// The server store this replica's cursor belongs to.
    private var knownStore: String?
    /// The outbox is being read again after the pull (`relaysWaiting`), and how many batches
    /// had been pushed before: none pushed since means the sync is over.
    private var pushingAgainAfter: Int?

    /// `cursor` is where the replica's copy stands; `pending`, how many changes wait to be pushed.
    public init(_ configuration: Configuration, cursor: Cursor?, pending: Int) {
        self.configuration = configuration
        self.cursor = cursor
        self.random = configuration.seed
        self.knownStore = configuration.knownStore
        progress.toPush = pending
    }

    /// The first actions: connect at once.
    public mutating func start(now: Int64) -> [Action] {
        self.now = now
        phase = .connecting
        return [.connect(afterMillis: 0)]
    }

    public mutating func handle(_ event: Event, now: Int64) -> [Action] {
        self.now = now
        guard phase != .done else { return [] }
        let actions = react(to: event)
        if actions.contains(where: { if case .send = $0 { true } else { $0 == .sendHello } }) { lastSentAt = now }
        return actions
    }

    private mutating func react(to event: Event) -> [Action] {
        switch event {
        case .connected:
            guard phase == .connecting else { return [] }
            phase = .awaitingWelcome
            connectedAt = now
            lastReceivedAt = now
            pingSentAt = nil
            inFlight = []
            position = nil
            drained = false
            readingOutbox = false
            awaitingFirstSnapshotPage = false
            // A new session pushes and pulls from the start, and reads the outbox again after.
            pushingAgainAfter = nil
            return [.sendHello]
        case .connectFailed(let problem):
            guard phase == .connecting else { return [] }
            return connectionGone(problem)
        case .connectionLost(let problem):
            guard phase != .connecting else { return [] }
            return connectionGone(problem)
        case .received(let message):
            lastReceivedAt = now
            pingSentAt = nil
            return received(message)
        case .outboxRead(let changes):
            return outboxRead(changes)
        case .tick:
            return tick()
        }
    }

    // MARK: Messages

    private mutating func received(_ message: WireMessage) -> [Action] {
        switch (phase, message) {
        case (.connecting, _):
            return []
        case (_, .error(let error)):
            return refused(error)
        case (.awaitingWelcome, .welcome(let welcome)):
            return welcomed(welcome)
        case (.pushing, .pong), (.pulling, .pong), (.subscribing, .pong), (.streaming, .pong):
            return []
        case (.pushing, .ack(let ack)), (.pulling, .ack(let ack)), (.streaming, .ack(let ack)):
            guard let oldest = inFlight.first, oldest.name == ack.batch, AuthorName.couldBeStamp(ack.author) else { return outOfTurn(message) }
            inFlight.removeFirst()
            summary.pushed += ack.accepted
            summary.duplicates += ack.duplicates
            summary.author = ack.author
            // Only the batch's own changes: an ack speaks for its push and nothing else.
            let pushed = Set(oldest.ids)
            var actions: [Action] = [.acknowledge(oldest.ids, author: ack.author, superseded: ack.superseded.filter(pushed.contains))]
            if phase != .streaming {
                progress.pushed += oldest.ids.count
                actions.append(.progress(progress))
                actions += pushMore()
            }
            return actions
        case (.pulling, .changes) where !inFlight.isEmpty, (.pulling, .snapshot) where !inFlight.isEmpty:
            // A page before the acks of the pushes asked for before it.
            return outOfTurn(message)
        case (.pulling, .changes(let page)) where page.more && page.cursor == cursor,
             (.pulling, .snapshot(let page)) where page.cursor == cursor:
            return standingStill(page.cursor)
        case (.pulling, .changes(let page)):
            pulled(page.changes)
            // Ask for the next page before applying this one, so the server reads it meanwhile.
            var actions: [Action] = page.more ? [.send(.pull(Pull(cursor: page.cursor)))] : []
            actions.append(.apply(page))
            cursor = page.cursor
            progress.pulled += page.changes.count
            progress.more = page.more
            actions.append(.progress(progress))
            guard !page.more else { return actions }
            actions.append(.recordSuccessfulSync)
            switch configuration.mode {
            case .once where (configuration.relaysWaiting || pageAfterAwaitingHeld) && pushingAgainAfter == nil:
                // The page may register the makers of relays waiting in the outbox (a replica
                // learns it from their signed changes), or bring a change an edit held back
                // waited for: once it is applied, push what it made pushable in this same sync,
                // or they would wait, unexplained, for the next.
                pushingAgainAfter = batchNumber
                phase = .pushing
                drained = false
                position = nil
                // The sync is not over yet: its success is recorded when it is.
                return actions.filter { $0 != .recordSuccessfulSync } + pushMore()
            case .once, .history:
                // `bye` before the last page is applied: the server closes its side (TLS's
                // goodbye, which the close waits for) while the replica writes.
                phase = .done
                return [.send(.bye)] + actions + [.close, .finish(summary)]
            case .watch:
                phase = .subscribing
                return actions + [.send(.subscribe(Subscribe(cursor: cursor)))]
            }
        case (.pulling, .snapshot(let page)):
            // Pages continue from their cursor; after the last, pulls go on from the stream
            // position the snapshot stands for, until a `changes` page says there is no more.
            let first = awaitingFirstSnapshotPage
            awaitingFirstSnapshotPage = false
            pulled(page.changes, snapshot: true)
            cursor = page.cursor
            progress.pulled += page.changes.count
            progress.more = true
            return [.send(.pull(Pull(cursor: page.cursor))), .applySnapshot(page, first: first), .progress(progress)]
        case (.fetchingHistory, .historyPage(let page)):
            guard case .history(let record) = configuration.mode, page.record == record else { return outOfTurn(message) }
            if page.more { return [.keepHistory(page), .send(.history(HistoryRequest(record: record, cursor: page.cursor)))] }
            phase = .done
            return [.keepHistory(page), .send(.bye), .close, .finish(summary)]
        case (.fetchingHistory, .pong):
            return []
        case (.subscribing, .subscribed):
            phase = .streaming
            failedAttempts = 0
            lastPollAt = now - configuration.pollMillis
            return [.notice(.watching(author: welcome?.identity.author ?? "?"))]
        case (.subscribing, .changes(let page)), (.streaming, .changes(let page)):
            cursor = page.cursor
            pulled(page.changes)
            return [.apply(page)]
        default:
            return outOfTurn(message)
        }
    }

    private mutating func welcomed(_ welcome: Welcome) -> [Action] {
        let them = welcome.identity
        if let outOfRange = welcome.limits.outOfRange {
            return stop(ClusterSyncError(.malformed,
                "the server's welcome announces limits no server may have (\(outOfRange)); nothing was pushed or pulled: "
                + "its operator should check its settings (`limits`)"), bye: true)
        }
        if configuration.role.isReadOnly {
            let mine = "\(configuration.role.credentialName) of \(configuration.tenant)\(configuration.region.map { " region \($0)" } ?? "")"
            guard them.role == configuration.role, them.tenant == configuration.tenant,
                  configuration.role != .pcpg || them.region == configuration.region else {
                let theirs = them.role.isPractice ? "practice \(them.practice)'s (\(them.tenant)/\(them.cluster))"
                    : "\(them.role.credentialName) of \(them.tenant)\(them.region.map { " region \($0)" } ?? "")"
                return stop(ClusterSyncError(.wrongCredential,
                    "\(configuration.credential) is \(theirs); this replica is for \(mine). Nothing was read: give it that credential "
                    + "with `clustersync remote set`"), bye: true)
            }
            self.welcome = welcome
            summary.author = them.author
            return [.rememberLimits(welcome.limits)] + storeChecked(welcome) + afterWelcome()
        }
        guard them.role.isPractice else {
            return stop(ClusterSyncError(.wrongCredential,
                "\(configuration.credential) is \(them.role.credentialName) of \(them.tenant)\(them.region.map { " region \($0)" } ?? ""), "
                + "which reads its clusters and writes nothing; this replica is practice \(configuration.practice)'s "
                + "(\(configuration.tenant)/\(configuration.cluster)). Nothing was pushed: give this replica its own practice's "
                + "credential with `clustersync remote set` (a PCPG's or Health Board's credential needs a replica made with "
                + "`clustersync init --role`)"), bye: true)
        }
        guard them.tenant == configuration.tenant, them.cluster == configuration.cluster, them.practice == configuration.practice else {
            return stop(ClusterSyncError(.wrongCredential,
                "\(configuration.credential) is practice \(them.practice)'s (\(them.tenant)/\(them.cluster)); this replica is practice "
                + "\(configuration.practice)'s (\(configuration.tenant)/\(configuration.cluster)). Nothing was pushed: give this "
                + "replica its own practice's credential with `clustersync remote set`"), bye: true)
        }
        self.welcome = welcome
        summary.author = them.author
        return [.rememberLimits(welcome.limits)] + storeChecked(welcome) + afterWelcome()
    }

    /// A store other than the one this replica's cursor belongs to: the cursor means nothing
    /// there (a restored backup's stream ends earlier, and goes on with other changes), so the
    /// pull starts again from the stream's start (replayed, keeping this replica's history;
    /// `cursor-expired` there falls back to a snapshot), after this replica's own changes have
    /// been pushed again. The first store a replica meets is only remembered.
    private mutating func storeChecked(_ welcome: Welcome) -> [Action] {
        guard let store = welcome.store, store != knownStore else { return [] }
        let replaced = knownStore != nil
        knownStore = store
        // A read-only role's pull is its whole state whatever the cursor: it starts without one.
        if replaced {
            cursor = configuration.role.isReadOnly ? nil : StreamCursor.cursor(at: 0)
            summary.storeReplaced = true
        }
        return [.rememberStore(store, replaced: replaced)]
    }

    /// A sync pushes first; a history fetch asks for its record and nothing else.
    private mutating func afterWelcome() -> [Action] {
        if case .history(let record) = configuration.mode {
            phase = .fetchingHistory
            return [.send(.history(HistoryRequest(record: record)))]
        }
        phase = .pushing
        return pushMore()
    }

    /// Keeps up to `maxBatchesInFlight` pushes going; once the outbox is drained, pulls (the
    /// server answers the pushes still in flight first).
    private mutating func pushMore() -> [Action] {
        guard !readingOutbox, phase == .pushing else { return [] }
        if !drained && inFlight.count < configuration.maxBatchesInFlight {
            readingOutbox = true
            return [.readOutbox(after: position, limit: outboxReadLimit)]
        }
        guard drained else { return [] }
        if let before = pushingAgainAfter, batchNumber == before {
            // Read again after the pull, and nothing had become pushable: the sync is over.
            phase = .done
            return [.recordSuccessfulSync, .send(.bye), .close, .finish(summary)]
        }
        phase = .pulling
        // A practice's replica with no position yet takes the current state, not the history.
        // (A read-only role's pull is already its whole state.)
        if cursor == nil, !configuration.role.isReadOnly { return pullSnapshot() }
        return [.send(.pull(Pull(cursor: cursor)))]
    }

    /// Asks for a snapshot from its first page.
    private mutating func pullSnapshot() -> [Action] {
        awaitingFirstSnapshotPage = true
        return [.send(.pull(Pull(cursor: nil, snapshot: true)))]
    }

    /// How many changes one outbox read asks for: one push's worth.
    private var outboxReadLimit: Int { welcome?.limits.maxChangesPerPush ?? 1 }

    private mutating func outboxRead(_ changes: [Change]) -> [Action] {
        guard readingOutbox else { return [] }
        readingOutbox = false
        switch phase {
        case .pushing:
            guard !changes.isEmpty else {
                drained = true
                return pushMore()
            }
            // The changes one push carries; the next read starts after them.
            let fitting = Push.fitting(changes, maxLineBytes: maxLineBytes)
            guard let last = fitting.last else { return holdBackTooLong(changes[0]) + pushMore() }
            position = last.id
            // Fewer than asked for, all sent: that was the outbox's end, and another read would only say so.
            if changes.count < outboxReadLimit && fitting.count == changes.count { drained = true }
            return [push(Array(fitting))] + pushMore()
        case .streaming:
            guard !changes.isEmpty else { return [] }
            // A change relayed for another replica (merged from its file) is stamped "X via us"
            // unless the server already had it; only a pull says which. Pushed on a subscribed
            // session it would never come back, so reconnect: a fresh sync pushes it, then pulls.
            if changes.contains(where: { $0.id.replica != configuration.replica }) {
                phase = .connecting
                return [.send(.bye), .close, .connect(afterMillis: 0)]
            }
            let fitting = Push.fitting(changes, maxLineBytes: maxLineBytes)
            guard !fitting.isEmpty else {
                // Held back as a refusal is: a fresh session pushes the rest.
                let held = holdBackTooLong(changes[0])
                forgetSession()
                return held + [.send(.bye), .close, .connect(afterMillis: 0)]
            }
            return [push(Array(fitting))]
        default:
            return []
        }
    }

    /// The server's longest line, once it has said (a server before `maxLineBytes` was sent
    /// says nothing: no bound).
    private var maxLineBytes: Int { welcome?.limits.maxLineBytes ?? .max }

    /// A change no push can carry: held back, as the server's `line-too-long` would have been,
    /// so the rest of the outbox syncs (the server's refusal stopped the whole sync, and every
    /// sync after it).
    private mutating func holdBackTooLong(_ change: Change) -> [Action] {
        position = change.id
        // Asked again even when this run held it back before: the outbox may hold it again (a
        // new server store puts every change back), and a watch would reconnect at every poll.
        heldBack.insert(change.id)
        return [.holdBack(change.id, code: ClusterSyncError.Code.lineTooLong.rawValue,
                          reason: Push.tooLongForALine(change, maxLineBytes: maxLineBytes))]
    }

    private mutating func push(_ changes: [Change]) -> Action {
        batchNumber += 1
        let batch = Batch(name: "\(configuration.replica)-\(batchNumber)", ids: changes.map(\.id))
        inFlight.append(batch)
        return .send(.push(Push(batch: batch.name, changes: changes)))
    }

    // MARK: Refusals and lost connections

    /// Codes that say "not now": the server is stopping, or cannot store at the moment.
    static let transientCodes: Set<String> = ["shutting-down", "internal", "store-unavailable"]

    /// Refusals of one change that no retry will change: the change is held back and the rest
    /// pushed. `clock-skew` is not among them (the clock that is wrong is this machine's: the
    /// person must fix it, and the change is fine once it is), nor are session-wide refusals.
    static func refusesTheChangeItself(_ error: WireError) -> Bool {
        error.batch != nil && error.change != nil && changeRefusalCodes.contains(error.code)
    }

    /// The codes of PROTOCOL.md §11 that refuse one change of a push and name it, but
    /// `clock-skew`. (Any other code naming a change, one a newer server may send, held the
    /// change back for good, where §11 says to read an unknown code as `internal`.)
    static let changeRefusalCodes: Set<String> = Set([
        ClusterSyncError.Code.forbiddenScope, .unknownField, .invalidValue, .patientData, .leadOnly, .supersedesUnsynced,
        .badSignature, .replicaRetired,
    ].map(\.rawValue))

    /// Every code of PROTOCOL.md §11; one outside it is a newer server's, read as `internal`.
    static let knownCodes: Set<String> = changeRefusalCodes.union(transientCodes).union([
        ClusterSyncError.Code.malformed, .unknownMessage, .lineTooLong, .batchTooLarge, .outOfOrder, .unauthenticated,
        .versionUnsupported, .cursorExpired, .timedOut, .tooManyConnections, .clockSkew, .keyMismatch,
    ].map(\.rawValue))

    /// A page of changes arrived: an edit held back until another replica synced the change it
    /// supersedes may go now, if the page brought that change (the replica knows which), or
    /// after any snapshot page (`Replica.applySnapshot` releases them all on the last).
    private mutating func pulled(_ changes: [Change], snapshot: Bool = false) {
        guard !changes.isEmpty || snapshot, !awaitingHeld.isEmpty else { return }
        heldBack.subtract(awaitingHeld)
        awaitingHeld.removeAll()
        pageAfterAwaitingHeld = true
    }

    private mutating func refused(_ error: WireError) -> [Action] {
        var error = error
        if !Self.knownCodes.contains(error.code) {
            error.message += " (\(error.code), a code this version does not know)"
            error.code = ClusterSyncError.Code.internal.rawValue
        }
        // Held back only when it names a change of the batch it answers: one naming a change
        // never pushed, a fresh one each time, made the client reconnect at once for ever.
        if Self.refusesTheChangeItself(error), let change = error.change, phase == .pushing || phase == .streaming || !inFlight.isEmpty,
           inFlight.contains(where: { $0.name == error.batch && $0.ids.contains(change) }),
           heldBack.insert(change).inserted {
            if error.code == ClusterSyncError.Code.supersedesUnsynced.rawValue { awaitingHeld.insert(change) }
            // The refused batch's other changes are still in the outbox; a fresh session pushes
            // them (and any batch behind it) again, which the server counts as duplicates.
            forgetSession()
            return [.holdBack(change, code: error.code, reason: error.message)]
                + (error.fatal ? [] : [.send(.bye)]) + [.close, .connect(afterMillis: 0)]
        }
        if error.code == ClusterSyncError.Code.cursorExpired.rawValue, phase == .streaming {
            // The server compacted its history past the subscription's position, which ended
            // the subscription: a fresh session pushes what is unacknowledged and pulls from the
            // cursor, which is `cursor-expired` there and takes a snapshot (below).
            forgetSession()
            return (error.fatal ? [] : [.send(.bye)]) + [.close, .connect(afterMillis: 0)]
        }
        if error.code == ClusterSyncError.Code.cursorExpired.rawValue, phase == .pulling || phase == .subscribing {
            // The server no longer keeps history that old (it compacted it): take its current
            // state instead; the outbox was pushed first, so nothing of this replica's is lost.
            cursor = nil
            phase = .pulling
            return pullSnapshot()
        }
        var what = error.batch == nil ? "the server refused" : "the server refused a push"
        // Codes that need more than the server's message are said in the core's plain words.
        if let words = ClusterSyncError.Code(error.code).plainWords { what = "\(words)\n(the server said" }
        let closing = what.hasSuffix("(the server said") ? ")" : ""
        if case .history = configuration.mode, error.code == ClusterSyncError.Code.unknownMessage.rawValue {
            return stop(ClusterSyncError(.unreachable,
                "the server at \(configuration.server) cannot send a record's history (it predates `history`): showing this replica's copy only"),
                bye: !error.fatal)
        }
        if configuration.mode == .watch, Self.transientCodes.contains(error.code) {
            return retry("\(what): \(error.message) (\(error.code))\(closing)", bye: !error.fatal)
        }
        // The wire code is the error's code, so scripts can match it; a server's internal error
        // is not the practice's to fix, but nor is it this program's: it exits 1 like the rest.
        let code = error.code == ClusterSyncError.Code.internal.rawValue ? ClusterSyncError.Code.unreachable : ClusterSyncError.Code(error.code)
        var advice = ""
        if Self.transientCodes.contains(error.code) { advice = "; sync again later" }
        // Unless the server's message already says whom to ask: two people named in one
        // message (the cluster's administrator, then the server's) left a practice unsure.
        if error.code == ClusterSyncError.Code.unauthenticated.rawValue, !error.message.contains("administrator") {
            advice = "; check the credential with the server's administrator"
        }
        if !closing.isEmpty { advice = "" }
        return stop(ClusterSyncError(code, "\(what): \(error.message) (\(error.code))\(closing)\(advice)"), bye: !error.fatal)
    }

    /// A page saying more follow whose cursor is the one it was asked with: the next pull would
    /// be the same request, and a server answering it alike would keep the sync asking for ever.
    private mutating func standingStill(_ at: Cursor) -> [Action] {
        stop(ClusterSyncError(.unreachable,
            "the server at \(configuration.server) sent a page that did not move on from its cursor (\(at.rawValue.prefix(80))) "
            + "and said more follow; asking again would ask the same for ever. Is it a ClusterSync server of this version?"), bye: true)
    }

    private mutating func outOfTurn(_ message: WireMessage) -> [Action] {
        let text = WireCodec.encode(message)
        return stop(ClusterSyncError(.unreachable,
            "the server at \(configuration.server) answered out of turn (\(text.prefix(80).trimmingCharacters(in: .newlines))); "
            + "is it a ClusterSync server of this version?"), bye: true)
    }

    private mutating func connectionGone(_ problem: ConnectionProblem) -> [Action] {
        if configuration.mode != .watch || problem.kind == .rejected {
            return stop(ClusterSyncError(.unreachable, problem.message), bye: false)
        }
        return retry(problem.message, bye: false)
    }

    private mutating func retry(_ reason: String, bye: Bool) -> [Action] {
        failedAttempts += 1
        let ceiling = min(configuration.reconnectMaxMillis,
                          configuration.reconnectBaseMillis << Int64(min(failedAttempts - 1, 20)))
        // Half fixed, half random: practices cut off together do not all come back at once.
        let delay = ceiling / 2 + Int64(nextRandom() % UInt64(max(1, ceiling / 2 + 1)))
        forgetSession()
        return (bye ? [.send(.bye)] : []) + [.close, .notice(.reconnecting(reason: reason, retryMillis: delay)), .connect(afterMillis: delay)]
    }

    /// The session is being closed to connect again: nothing of it carries over to the next.
    private mutating func forgetSession() {
        phase = .connecting
        welcome = nil
        inFlight = []
        readingOutbox = false
    }

    private mutating func stop(_ error: ClusterSyncError, bye: Bool) -> [Action] {
        phase = .done
        return (bye ? [.send(.bye)] : []) + [.close, .fail(error)]
    }

    // MARK: Timers

    private mutating func tick() -> [Action] {
        switch phase {
        case .connecting, .done:
            return []
        case .awaitingWelcome:
            let limit = configuration.pingMillis + configuration.pongTimeoutMillis
            guard now - connectedAt >= limit else { return [] }
            return connectionGone(ConnectionProblem(.lost,
                "the server at \(configuration.server) did not answer hello within \(limit / 1000) s"))
        case .pushing, .pulling, .subscribing, .streaming, .fetchingHistory:
            if let sent = pingSentAt {
                guard now - sent >= configuration.pongTimeoutMillis else { return [] }
                return connectionGone(ConnectionProblem(.lost,
                    "the server at \(configuration.server) stopped answering (no pong within "
                    + "\(Self.seconds(configuration.pongTimeoutMillis))); the connection is dead"))
            }
            var actions: [Action] = []
            // A quiet line is pinged to learn whether it is alive; a session that has sent
            // nothing for half the server's idle timeout is pinged so the server keeps it.
            let idle = welcome?.limits.idleTimeoutMillis ?? 0
            if now - lastReceivedAt >= configuration.pingMillis || (idle > 0 && now - lastSentAt >= idle / 2) {
                pingNumber += 1
                pingSentAt = now
                actions.append(.send(.ping(Ping(nonce: String(pingNumber)))))
            }
            if phase == .streaming, inFlight.isEmpty, !readingOutbox, now - lastPollAt >= configuration.pollMillis {
                lastPollAt = now
                readingOutbox = true
                actions.append(.readOutbox(after: nil, limit: outboxReadLimit))
            }
            return actions
        }
    }

    static func seconds(_ millis: Int64) -> String {
        millis % 1000 == 0 ? "\(millis / 1000) s" : "\(Double(millis) / 1000) s"
    }

    /// SplitMix64: small, and the same sequence for the same seed.
    private mutating func nextRandom() -> UInt64 {
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
