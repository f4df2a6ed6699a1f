import ClusterSyncCore
import ClusterSyncTLS
import Foundation
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// Runs one connection: turns what happens (a line, a too-long line, another session's push, a
/// timer, a shutdown) into events for `ServerSessionStateMachine`, and performs the actions it
/// returns against the store. Holds no protocol rules of its own, and handles one request at a
/// time, so answers go out in the order requests came in.
///
/// Its events come through `SessionEvents`, taken one at a time by a task that runs only while
/// some wait (a quiet session holds no task); the connection stops reading from its socket
/// while a few lines wait, so a client that sends faster than the server answers holds at most
/// a few lines in memory.
struct SessionHandler: Sendable {
    let store: any ServerStore
    let notifier: ChangeNotifier
    /// Subscriptions woken by a push share one read of the log's tail, and so do pulls while
    /// the tenant has one (`SubscriptionFeed.pullPage`); nil: each reads its own.
    var feed: SubscriptionFeed?
    /// Subscriptions woken by a push share one re-read of their credentials; nil: each reads its own.
    var credentials: SubscribedCredentials?
    let limits: WireLimits
    var sessionLimits = SessionLimits.default
    /// Counts sessions per credential (and, in `SyncServer`, connections in total).
    var connections = ConnectionRegistry(maxConnections: .max, maxConnectionsPerCredential: .max)
    let logger: Logger
    /// The wall clock for the push checks, in milliseconds since 1970.
    var nowMillis: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    var serverName = "clustersyncd/1"
    /// The store's identity, read once when the server starts (`welcome.store`); nil: not sent.
    var storeIdentity: String?
    /// Whether the welcome names the tenant's chain head (`welcome.head`). Always, but in the
    /// byte-exact transcripts: a head hashes random salts, so no fixed line can hold one.
    var announcesChainHead = true
    /// The pages all sessions may hold read ahead (`PageReadAhead`), shared by every session.
    var readAheads = ReadAheadBudget()
    /// How long the session log keeps an entry (settings: auditRetentionDays).
    var auditRetentionMillis = Int64(ServerSettings.defaultAuditRetentionDays) * 86_400_000

    /// Checks credentials at hello and before every later message; writes the session log.
    var gate: CredentialGate { CredentialGate(store: store, auditRetentionMillis: auditRetentionMillis, nowMillis: nowMillis) }

    /// For whatever metrics backend the operator bootstraps (none by default).
    static let sessions = Counter(label: "clustersyncd_sessions_total")
    static let accepted = Counter(label: "clustersyncd_changes_accepted_total")
    static let duplicates = Counter(label: "clustersyncd_changes_duplicate_total")
    static let refused = Counter(label: "clustersyncd_pushes_refused_total")
    static let closedByLimit = Counter(label: "clustersyncd_sessions_closed_by_limit_total")

    enum Event: Sendable {
        case line(ByteBuffer)
        case lineTooLong
        case tooMuchBeforeWelcome
        case inboundClosed
        /// Another session pushed to this tenant.
        case published
        /// The subscription's last page said `more`: the next is owed.
        case pageOwed
        /// A push's commit has ended: the oldest push waiting is answered.
        case pushCommitted
        /// The deadline of the machine's last `armTimer` has come.
        case timer
        case shutdown

        /// Whether the event is something the session would act on for its client, so its
        /// credential is checked again first. A timer may be a subscription's read retried
        /// (`ServerSessionStateMachine.subscriptionFailed`), which sends what it reads. A blank
        /// line is not: nothing answers it, and a client streaming them cost a credential read
        /// each (a pooled connection on PostgreSQL) while nothing it sent slowed it down.
        var isMessage: Bool {
            switch self {
            case .line(let line): !ServerSessionStateMachine.isBlank(line)
            case .published, .pageOwed, .timer: true
            default: false
            }
        }
    }

    static let preWelcomeLimitName = "clustersyncd.pre-welcome-limit"

    /// Adds the session's handlers to a connection's pipeline (after TLS, if any); the events
    /// they give go to the session once `start` is called. Call on the channel's event loop.
    static func wrap(_ channel: any Channel, limits: WireLimits, sessionLimits: SessionLimits = .default) throws -> SessionEvents {
        let pipeline = channel.pipeline.syncOperations
        let events = SessionEvents(channel: channel)
        try pipeline.addHandler(PreWelcomeByteLimit(limit: sessionLimits.maxBytesBeforeWelcome), name: preWelcomeLimitName)
        try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: limits.maxLineBytes, copiesLines: true)))
        try pipeline.addHandler(SessionInbound(events))
        return events
    }

    /// Starts the session once the TLS handshake has said whose certificate it is (if any); the
    /// session then runs on its own, while events come, until it closes the connection.
    func start(_ events: SessionEvents, certificateIdentity: EventLoopFuture<CertificateIdentity?>) {
        events.start(self) {
            // A refused certificate fails the future: the connection closes with the refusal sent.
            let certificate: CertificateIdentity?
            do { certificate = try await certificateIdentity.get() } catch { return nil }
            return await self.open(events, certificate: certificate)
        }
    }

    /// Starts the session and waits for it to end (how the session tests run it).
    func run(_ events: SessionEvents, certificateIdentity: EventLoopFuture<CertificateIdentity?>) async {
        start(events, certificateIdentity: certificateIdentity)
        try? await events.ended.futureResult.get()
    }

    /// A session between its events: the state machine and what the handler keeps beside it.
    struct Running: Sendable {
        var machine: ServerSessionStateMachine
        var session: Session
        /// False once the session has closed: it ends without taking more events.
        var isOpen = true
    }

    /// What the handler keeps for one connection besides the state machine.
    struct Session: Sendable {
        let channel: any Channel
        let events: SessionEvents
        let certificate: CertificateIdentity?
        var timer: Scheduled<Void>?
        /// The credential slot this session holds, once welcomed.
        var credential: String?
        /// The subscription's id with the notifier, and the sessions it is woken with.
        var subscription: (group: SubscribedCredentials.Group, id: Int)?
        /// Wake-ups not yet handled (set by the notifier, taken by `.published`).
        let wakeups = PendingWakeups()
        /// The tenant's generation at the last wake-up handled: the subscription's next page
        /// comes from a read begun after it (`SubscriptionFeed`).
        var seen: UInt64 = 0
        /// A `.pageOwed` event is waiting in the session's events.
        var pageOwed = false
        /// Pushes checked and being committed, oldest first. The next push's signatures are
        /// checked while one commits; anything else the session answers waits for them, so
        /// answers go out in the order their requests came.
        var committing: [Task<PushAnswer, Never>] = []
        /// Whose the session is, for the session log and the credential rechecks.
        var subject = CredentialGate.Subject()
        /// The replica key of the hello when it is not registered yet, until the session's first
        /// push registers it.
        var key: ReplicaPublicKey?
        /// The registration of the session's replica, once read or made. Registrations are never
        /// removed, so a push of the replica's own changes (most are) needs no read of its key.
        var registration: ReplicaRegistration?
        /// The commit of the session's `connected` entry, until the session has waited for it.
        var noting: Task<Void, Never>?
        /// Refusals written to the session log so far (`maxRefusalsRecorded`).
        var refusalsRecorded = 0
        /// Welcomed: from then on its refusals are written to the session log, not only the one
        /// that closes it.
        var welcomed = false
        /// The page after the last one pulled, being read for the pull that follows.
        var readAhead: PageReadAhead?
    }

    /// Waits for the session's `connected` entry to be committed (once): before the session's
    /// first push or refusal is written, and before the session ends.
    private func notedStart(_ session: inout Session) async {
        guard let noting = session.noting else { return }
        await noting.value
        session.noting = nil
    }

    /// The session's first steps, before any event: the machine's start (its hello timer).
    private func open(_ events: SessionEvents, certificate: CertificateIdentity?) async -> Running {
        var session = Session(channel: events.channel, events: events, certificate: certificate)
        session.subject.peer = CredentialGate.peer(events.channel.remoteAddress)
        // The event loop's clock, which its timers follow (and which a test loop moves by hand).
        let loop = events.channel.eventLoop
        var machine = ServerSessionStateMachine(
            limits: limits, certificateIdentity: certificate != nil, sessionLimits: sessionLimits, clock: { loop.now })
        let isOpen = await perform(machine.start(), &machine, &session)
        return Running(machine: machine, session: session, isOpen: isOpen)
    }

    /// Lets go of what the session held: its timer, its credential's slot, its subscription.
    func end(_ running: inout Running) async {
        var session = running.session
        await notedStart(&session)
        session.timer?.cancel()
        session.readAhead = nil
        if let credential = session.credential { connections.release(credential: credential) }
        await leaveSubscription(&session)
        running.session = session
    }

    /// Stops the session's wake-ups and the watch on its credential.
    private func leaveSubscription(_ session: inout Session) async {
        guard let subscription = session.subscription else { return }
        session.subscription = nil
        if await notifier.unsubscribe(tenant: subscription.group.tenant, id: subscription.id) {
            await feed?.forget(tenant: subscription.group.tenant)
        }
        await credentials?.unwatch(session.subject, subscription.group)
    }

    /// Handles one event. Returns false once the session has closed.
    func handle(_ event: Event, _ running: inout Running) async -> Bool {
        await handle(event, &running.machine, &running.session)
    }

    private func handle(_ event: Event, _ machine: inout ServerSessionStateMachine, _ session: inout Session) async -> Bool {
        var action: ServerSessionStateMachine.Action
        // The wake-up being handled: its credential re-check and its page are read after it.
        if case .published = event { session.seen = max(session.seen, session.wakeups.take()) }
        // A credential revoked or expired while the session is open is refused at once.
        if machine.identity != nil, event.isMessage, let withdrawn = await recheck(event, session) {
            return await perform(machine.credentialWithdrawn(withdrawn.message), &machine, &session)
        }
        switch event {
        case .line(let line):
            // Lines read before the connection closed have no one to answer: a client that
            // sent thousands of lines and hung up kept the server answering them into the void
            // (and writing refusals to the session log) for a minute and a half.
            guard session.channel.isActive else { return false }
            action = machine.lineReceived(line)
            // A page read ahead waits only for the pull that comes next (a pull's first step
            // is finding the stream's end), not while the client does something else.
            switch action {
            case .findStreamEnd, .fetch: break
            default: session.readAhead = nil
            }
        case .lineTooLong: action = machine.lineTooLong()
        case .tooMuchBeforeWelcome: action = machine.tooMuchBeforeWelcome()
        case .inboundClosed:
            // The client may have closed only its side, and still read the answers.
            await answerPushesInFlight(&machine, &session)
            return false
        case .shutdown: action = machine.shutdown()
        case .published:
            action = machine.streamGrew()
        case .pageOwed:
            session.pageOwed = false
            action = .none
        case .pushCommitted:
            // The oldest first (a later commit may end first; its own event finds it answered).
            // Sent here, not through `perform`, which would answer the pushes after it first.
            await answerOldestPush(&machine, &session)
            action = .none
        case .timer: action = machine.timerFired()
        }
        guard await perform(action, &machine, &session) else { return false }
        // A subscription the store could no longer serve has ended (`subscriptionExpired`).
        if !machine.isSubscribed, session.subscription != nil { await leaveSubscription(&session) }
        // A subscription that has just started listens for pushes before it catches up, so
        // that nothing pushed in between is missed. The notifier wakes the session through
        // its events, at most one wake-up waiting (no task or buffer per subscription).
        if machine.isSubscribed, session.subscription == nil, let identity = machine.identity {
            let (events, wakeups) = (session.events, session.wakeups)
            let group = SubscribedCredentials.Group(tenant: identity.tenant, cluster: identity.wokenByCluster)
            let subscribed = await notifier.subscribe(tenant: group.tenant, cluster: group.cluster) { generation in
                if wakeups.raise(generation) { events.yield(.published) }
            }
            session.subscription = (group, subscribed.id)
            session.seen = subscribed.generation
            await credentials?.watch(session.subject, group)
        }
        guard await perform(machine.catchUp(), &machine, &session) else { return false }
        // A page that said `more`: the next goes out after whatever the client sent
        // meanwhile (one owed at a time), so a subscription far behind catches up without
        // waiting for another push to wake it.
        if machine.isCatchingUp, !session.pageOwed {
            session.pageOwed = true
            session.events.yield(.pageOwed)
        }
        return true
    }

    /// The error to close the session with if its credential has been withdrawn. A wake-up is
    /// judged in the read shared by the sessions woken with it; a client's message (or a
    /// wake-up the shared read cannot answer) with the session's own read.
    private func recheck(_ event: Event, _ session: Session) async -> ClusterSyncError? {
        if case .published = event, let credentials, let group = session.subscription?.group,
           let states = await credentials.states(for: session.subject, group, seen: session.seen) {
            return CredentialGate.withdrawal(of: session.subject, in: states, at: nowMillis())
        }
        return await gate.recheck(session.subject)
    }

    /// Performs `action` and the actions that follow from its results, until one needs a new
    /// event. Returns false once the session has closed.
    private func perform(
        _ first: ServerSessionStateMachine.Action, _ machine: inout ServerSessionStateMachine, _ session: inout Session
    ) async -> Bool {
        var action = first
        while true {
            // Pushes being committed are answered, in order, before anything else is.
            if action.waitsForPushes { await answerPushesInFlight(&machine, &session) }
            switch action {
            case .none:
                return true
            case .send(let message):
                await answerClient(message, &session)
                return true
            case .armTimer(let deadline):
                session.timer?.cancel()
                let events = session.events
                session.timer = session.channel.eventLoop.scheduleTask(deadline: deadline) { events.yield(.timer) }
                return true
            case .close(let error):
                if let error {
                    logClose(error, machine)
                    if error.code != ClusterSyncError.Code.shuttingDown.rawValue { await logRefusal(error, &session) }
                    await send(.error(error), session.channel, untilWritten: true)
                }
                return false
            case .authenticate(let hello):
                action = await authenticate(hello, &session, &machine)
                if machine.identity != nil {
                    session.welcomed = true
                    // Welcomed: the small pre-welcome allowance no longer applies. Not awaited (a hop
                    // to the event loop and back before the welcome): the loop runs the removal
                    // before it writes the welcome, so before the client can send anything more.
                    session.channel.pipeline.removeHandler(name: Self.preWelcomeLimitName, promise: nil)
                }
            case .store(let push):
                action = await store(push, from: machine.replica, &machine, &session)
            case .fetch(let pull):
                action = await fetch(pull, &machine, &session)
            case .fetchSnapshot(let pull):
                action = await fetchSnapshot(pull, &machine)
            case .fetchHistory(let request):
                action = await fetchHistory(request, &machine)
            case .findStreamEnd:
                action = await findStreamEnd(&machine)
            case .fetchForSubscription(let pull):
                action = await fetchForSubscription(pull, seen: session.seen, &machine)
            }
        }
    }

    /// Answers every push being committed, oldest first, once its commit has ended.
    private func answerPushesInFlight(_ machine: inout ServerSessionStateMachine, _ session: inout Session) async {
        while !session.committing.isEmpty { await answerOldestPush(&machine, &session) }
    }

    /// Answers the oldest push being committed, once its commit has ended.
    private func answerOldestPush(_ machine: inout ServerSessionStateMachine, _ session: inout Session) async {
        guard !session.committing.isEmpty else { return }
        // An answer is a `.send` (or `.none` once closed), never more work.
        if case .send(let answer) = await session.committing.removeFirst().value.action(&machine) {
            await answerClient(answer, &session)
        }
    }

    /// The most pushes a session holds between check and answer: one committing while the next
    /// is checked. A client that sends pushes without reading the answers waits on its oldest
    /// instead of piling batches (up to a line's size each) into the server's memory.
    static let maxPushesInFlight = 2

    private func answerClient(_ message: WireMessage, _ session: inout Session) async {
        if case .error(let error) = message { await logRefusal(error, &session) }
        await send(message, session.channel)
    }

    /// A refusal's session-log entry, after the session's `connected` entry; none after the
    /// session's first `maxRefusalsRecorded`. Before its welcome a session writes only the
    /// refusal that closes it (a bad token, no hello in time, too much sent): each row is a
    /// commit on the store's one writer, and a client that never logs in could otherwise have
    /// every connection write sixteen.
    private func logRefusal(_ error: WireError, _ session: inout Session) async {
        guard session.welcomed || error.fatal else { return }
        session.refusalsRecorded += 1
        guard session.refusalsRecorded <= Self.maxRefusalsRecorded else {
            if session.refusalsRecorded == Self.maxRefusalsRecorded + 1 {
                logger.notice("further refusals of this session are not written to the session log",
                              metadata: ["clustersyncd.peer": "\(session.subject.peer ?? "unknown")"])
            }
            return
        }
        await notedStart(&session)
        await gate.refused(error, session.subject, logger: logger)
    }

    /// Enough of one session's refusals to see what its client got wrong, never a row per line
    /// of a client sending junk: 16 KiB of two-byte lines before a hello wrote 8,000 rows.
    static let maxRefusalsRecorded = 16

    /// A limit that bites is worth a line in the log; a client's own mistakes only at debug.
    private func logClose(_ error: WireError, _ machine: ServerSessionStateMachine) {
        var metadata: Logger.Metadata = ["clustersyncd.code": "\(error.code)", "clustersyncd.reason": "\(error.message)"]
        if let identity = machine.identity { metadata["clustersyncd.practice"] = "\(identity)" }
        switch error.code {
        case ClusterSyncError.Code.timedOut.rawValue, ClusterSyncError.Code.lineTooLong.rawValue,
             ClusterSyncError.Code.tooManyConnections.rawValue:
            Self.closedByLimit.increment()
            logger.notice("session closed by a limit", metadata: metadata)
        case ClusterSyncError.Code.shuttingDown.rawValue:
            break
        default:
            logger.debug("session closed", metadata: metadata)
        }
    }

    /// Writes one line, a slice of at most `flushedSlice` bytes per flush. NIOSSL keeps its
    /// buffer of ciphertext at the largest size one flush ever needed, for the connection's
    /// life (2.37 does not apply its handler's cap on it): a page written in one flush pinned
    /// its size, hundreds of kilobytes and up to the line limit, in every session that had
    /// pulled one. Measured with 300 sessions each pulling a page of 1,000 changes: 341 KB a
    /// session in one flush, 120 KB in slices of 64 KB, 72 KB in slices of 16 KB (63 KB is a
    /// session's cost before any page).
    ///
    /// A slice is a little under 4 KB (as nginx's `ssl_buffer_size 4k`), so that its TLS record
    /// (the slice, a 5-byte header, and 17 bytes of content type and tag in TLS 1.3, 24 of nonce
    /// and tag in 1.2) and the 16-byte header of `MappedLargeBuffers` fit in one page of the
    /// 16 KB ciphertext buffer NIOSSL keeps per connection. That buffer is mapped, so only the
    /// pages a record reaches are resident: one, where slices of 16 KB made all four resident in
    /// every session that had been sent a page. Measured, 4,000 sessions open and settled: 246
    /// MB with slices of 4 KB, 263–278 with 8 KB, 295 with 16 KB (heap buffer). (A slice of 16
    /// KB or more made a record larger than the buffer, which then doubled to 32 KB.)
    ///
    /// Each slice is flushed as it is written; the next waits only while the connection cannot
    /// take more (the client is not reading), so a session holds at most a slice or two beyond
    /// what the socket holds.
    /// `untilWritten`: waits for the last slice to be written too (a refusal the connection is
    /// closed after).
    ///
    /// A wait lasts at most `writeTimeout`, then the connection is closed: the session's timers
    /// (hello, idle) are events it handles after this write, so a client that stops reading
    /// would otherwise hold its connection for good.
    private func send(_ message: WireMessage, _ channel: any Channel, untilWritten: Bool = false) async {
        // A slice at a time, each in a buffer of its own (`WireCodec.encode(_:chunkSize:)`).
        let chunks = WireCodec.encode(message, chunkSize: Self.flushedSlice)
        do {
            for (index, chunk) in chunks.enumerated() {
                let written = channel.eventLoop.makePromise(of: Void.self)
                channel.writeAndFlush(chunk, promise: written)
                guard (untilWritten && index == chunks.count - 1) || !channel.isWritable else { continue }
                let timeout = sessionLimits.writeTimeout, logger = logger
                let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                    logger.notice("closed a connection that took nothing it was sent for \(timeout.nanoseconds / 1_000_000_000) s",
                                  metadata: ["clustersyncd.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "unknown")"])
                    channel.close(promise: nil)
                }
                defer { deadline.cancel() }
                try await written.futureResult.get()
            }
        } catch {
            // The connection is gone: the session ends at its next event.
        }
    }

    static let flushedSlice = 4 * 1024 - 256

    private func authenticate(
        _ hello: Hello, _ session: inout Session, _ machine: inout ServerSessionStateMachine
    ) async -> ServerSessionStateMachine.Action {
        let certificate = session.certificate
        do {
            let identity: SessionIdentity
            let expiresAt: Int64?
            switch try await gate.admit(token: hello.token, certificate: certificate, subject: &session.subject) {
            case .refused(let message): return machine.authenticationFailed(message)
            case .admitted(let admitted, let expiry): (identity, expiresAt) = (admitted, expiry)
            }
            // Read while the hello's key is looked up (on PostgreSQL, a round trip each).
            async let chainHead = Self.chainHead(announcesChainHead ? identity.tenant : nil, store)
            guard let slot = connections.claim(credential: ConnectionRegistry.credentialKey(token: hello.token, certificate: certificate)) else {
                return machine.tooManyConnections(
                    "this \(certificate == nil ? "token" : "certificate") already has \(connections.maxConnectionsPerCredential) sessions open, the most this server allows for one credential: close one (another sync --watch?) and connect again")
            }
            session.credential = slot
            // Another key for this replica id (or another practice's replica) is refused at once,
            // and so is a retired replica, with its key or without (a client from before
            // signing). Registering waits for the first push: the client checks the welcome's
            // practice before it pushes, so a credential set up on the wrong practice's replica
            // never binds that replica's key to it.
            let registered = try await store.replicaRegistrations([hello.replica], tenant: identity.tenant, cluster: identity.cluster)[hello.replica]
            var refusal = registered.flatMap(ReplicaKeys.retirement)
            if let key = hello.key {
                if let registered {
                    // Registered already, with this key, to this practice: a registration is
                    // for good, so the first push has nothing to write.
                    session.registration = registered
                    if case .refuse(let error) = ReplicaKeys.decide(key, for: hello.replica, session: identity, person: nil,
                                                                    existing: registered, owner: nil, nowMillis: nowMillis()) {
                        refusal = error
                    }
                } else {
                    session.key = key
                }
            }
            if let refusal {
                connections.release(credential: slot)
                session.credential = nil
                return machine.keyRefused(refusal)
            }
            // The session log's `connected` entry and the credential's last use are committed
            // while the welcome goes out: the session waits for that commit before anything it
            // writes or refuses (`notedStart`), so the log keeps its order.
            let (gate, subject, logger) = (gate, session.subject, logger)
            session.noting = Task { await gate.connected(subject, logger: logger) }
            logger.info("session", metadata: [
                "clustersyncd.practice": "\(identity)",
                "clustersyncd.replica": "\(hello.replica)",
                "clustersyncd.credential": "\(certificate == nil ? "token" : "certificate")",
            ])
            Self.sessions.increment()
            return machine.authenticated(identity, server: serverName, credentialExpiresAt: expiresAt, store: storeIdentity, head: try await chainHead)
        } catch {
            logger.error("authentication failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.authenticationFailed("the server could not check the credential; try again")
        }
    }

    private static func chainHead(_ tenant: String?, _ store: any ServerStore) async throws -> LedgerHead? {
        guard let tenant else { return nil }
        return try await store.chainHead(tenant: tenant)
    }

    /// Checks a push (its makers' keys, admission, signatures) and starts its commit, which is
    /// answered when it ends (`.pushCommitted`): the session meanwhile checks the next push, so
    /// a batch's signature checks (on every core, below other work: `SignatureChecks`) overlap
    /// the previous batch's commit.
    private func store(
        _ push: Push, from replica: ReplicaID?, _ machine: inout ServerSessionStateMachine, _ session: inout Session
    ) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        await notedStart(&session)
        while session.committing.count >= Self.maxPushesInFlight { await answerOldestPush(&machine, &session) }
        let commit: @Sendable () async -> PushAnswer
        do {
            if let key = session.key, let replica {
                // The session's first push registers its replica's key (PROTOCOL.md §6.2).
                session.registration = try await store.registerReplicaKey(key, replica: replica, session: identity, person: session.subject.person)
                session.key = nil
            }
            // The makers' registered keys, for the signature check (the last one), and the
            // session's own: its registered author is the one its changes are stamped with.
            var makers = Set(push.changes.map(\.id.replica))
            if let replica { makers.insert(replica) }
            let registrations = if let registered = session.registration, makers == [registered.replica] {
                [registered.replica: registered]
            } else {
                try await store.replicaRegistrations(makers, tenant: identity.tenant, cluster: identity.cluster)
            }
            try await SignatureChecks.validate(push, for: identity, nowMillis: nowMillis(), limits: limits, keys: registrations.mapValues(\.key))
            let author = replica.flatMap { registrations[$0]?.author } ?? identity.author
            let (store, notifier, logger) = (self.store, self.notifier, self.logger)
            commit = {
                do {
                    let outcome = try await store.push(push.changes, as: identity, from: replica)
                    if outcome.accepted > 0 { await notifier.notify(tenant: identity.tenant, clusters: Set(push.changes.map(\.scope.cluster))) }
                    Self.accepted.increment(by: outcome.accepted)
                    Self.duplicates.increment(by: outcome.duplicates)
                    logger.debug("push", metadata: ["clustersyncd.accepted": "\(outcome.accepted)", "clustersyncd.duplicates": "\(outcome.duplicates)"])
                    return .stored(Ack(batch: push.batch, accepted: outcome.accepted, duplicates: outcome.duplicates, author: author,
                                           superseded: outcome.superseded))
                } catch {
                    return PushAnswer.refusal(error, batch: push.batch, logger: logger)
                }
            }
        } catch {
            let refusal = PushAnswer.refusal(error, batch: push.batch, logger: logger)
            commit = { refusal }
        }
        let events = session.events
        // A session's commits run in the order its pushes came: the next is checked while one
        // commits, but waits for it before committing. On PostgreSQL each push takes its own
        // pooled connection, and the second could take the tenant's lock first: its changes
        // numbered before the first's, or refused as superseding what the first stores
        // (`supersedes-unsynced`), where SQLite's group commit kept them in order.
        let previous = session.committing.last
        session.committing.append(Task {
            _ = await previous?.value
            let answer = await commit()
            events.yield(.pushCommitted)
            return answer
        })
        return .none
    }

    private func fetch(_ pull: Pull, _ machine: inout ServerSessionStateMachine, _ session: inout Session) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        let limit = pull.limit ?? limits.maxChangesPerPage
        let readAhead = session.readAhead
        session.readAhead = nil
        let page: ChangesPage
        if let ahead = await readAhead?.page(answering: pull.cursor, limit: limit) {
            page = ahead
        } else if let feed, let tail = await feed.pullPage(for: identity, after: pull.cursor, limit: limit) {
            // Cut from the tenant's shared tail: the stream's end, where nothing is read ahead.
            return machine.fetched(tail)
        } else {
            do {
                page = try await store.pullStored(for: identity, after: pull.cursor, limit: limit, excluding: nil)
            } catch {
                return machine.requestFailed(Self.told(error, "pull failed", "the server could not read changes; pull again", logger: logger))
            }
        }
        readNext(after: page, limit: limit, for: identity, &session)
        return machine.fetched(page)
    }

    /// Starts reading the page after `page` when more follow (`PageReadAhead`).
    private func readNext(after page: ChangesPage, limit: Int, for identity: SessionIdentity, _ session: inout Session) {
        guard page.more else { return }
        let (store, cursor) = (self.store, page.cursor)
        session.readAhead = PageReadAhead.start(after: cursor, limit: limit, budget: readAheads) {
            try await store.pullStored(for: identity, after: cursor, limit: limit, excluding: nil)
        }
    }

    private func fetchSnapshot(_ pull: Pull, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            let after = try pull.cursor.map(SnapshotCursor.init)
            return machine.fetchedSnapshot(try await store.snapshotStored(for: identity, after: after, limit: pull.limit ?? limits.maxChangesPerPage))
        } catch {
            return machine.requestFailed(Self.told(error, "snapshot failed", "the server could not read its state; pull again", logger: logger))
        }
    }

    private func fetchHistory(_ request: HistoryRequest, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            return machine.fetchedHistory(try await store.history(
                of: request.record, for: identity, after: request.cursor, limit: request.limit ?? limits.maxChangesPerPage))
        } catch {
            return machine.requestFailed(Self.told(error, "history failed", "the server could not read the record's history; try again", logger: logger))
        }
    }

    private func findStreamEnd(_ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            return machine.streamEnd(try await store.currentCursor(tenant: identity.tenant))
        } catch {
            logger.error("reading the end of the stream failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.requestFailed(ClusterSyncError(.internal, "the server could not read changes; try again"))
        }
    }

    private func fetchForSubscription(_ pull: Pull, seen: UInt64, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        let limit = pull.limit ?? limits.maxChangesPerPage
        if let feed, let page = await feed.page(for: identity, after: pull.cursor, limit: limit, excluding: machine.replica, seen: seen) {
            return machine.subscriptionPage(page)
        }
        do {
            return machine.subscriptionPage(try await store.pullStored(for: identity, after: pull.cursor, limit: limit, excluding: machine.replica))
        } catch let error as ClusterSyncError where error.code == .cursorExpired {
            return machine.subscriptionExpired(error)
        } catch {
            logger.error("subscription pull failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.subscriptionFailed()
        }
    }
}

extension SessionHandler {
    /// What a client is told of a store call that failed: a mistake of its own as it is; a
    /// store that cannot be used in words that name nothing of the server's side (a PostgreSQL
    /// store's message names its host and database: the operator's log keeps it whole); anything
    /// else as `internal`, saying what to do, with the error logged.
    static func told(_ error: any Error, _ failed: String, _ internalAdvice: String, logger: Logger) -> ClusterSyncError {
        switch error {
        case let error as ClusterSyncError where error.code == .storeUnavailable:
            logger.error("\(failed): the store cannot be used; run `clustersyncd health`", metadata: ["clustersyncd.error": "\(error.message)"])
            return ClusterSyncError(.storeUnavailable, Self.storeUnavailableAdvice)
        case let error as ClusterSyncError where error.isUserError:
            return error
        default:
            logger.error("\(failed)", metadata: ["clustersyncd.error": "\(error)"])
            return ClusterSyncError(.internal, internalAdvice)
        }
    }

    static let storeUnavailableAdvice = "the server cannot use its store: an operator must act (`clustersyncd health` says what is wrong); "
        + "your changes stay in your replica until a sync succeeds"
}

/// A subscribed session's wake-ups not yet handled: many pushes while it is busy make one
/// `.published` event, carrying the newest generation.
final class PendingWakeups: Sendable {
    private let state = Mutex((pending: false, generation: UInt64(0)))

    /// Notes a wake-up; true when none was waiting (the caller then sends the event).
    func raise(_ generation: UInt64) -> Bool {
        state.withLock { state in
            state.generation = max(state.generation, generation)
            defer { state.pending = true }
            return !state.pending
        }
    }

    /// The newest generation noted; the next wake-up sends an event again.
    func take() -> UInt64 {
        state.withLock { state in
            state.pending = false
            return state.generation
        }
    }
}

/// How a push is answered once its commit has ended (or its check refused it).
enum PushAnswer: Sendable {
    case stored(Ack)
    case refused(batch: String, error: ClusterSyncError, change: ChangeID?)

    func action(_ machine: inout ServerSessionStateMachine) -> ServerSessionStateMachine.Action {
        switch self {
        case .stored(let ack): machine.pushStored(ack)
        case .refused(let batch, let error, let change): machine.pushFailed(batch: batch, error: error, change: change)
        }
    }

    /// A push refused whole: by `PushValidation` (naming the change), by the store, or by a
    /// storage failure (`internal`, logged).
    static func refusal(_ error: any Error, batch: String, logger: Logger) -> PushAnswer {
        switch error {
        case let rejection as PushRejection:
            SessionHandler.refused.increment()
            return .refused(batch: batch, error: rejection.error, change: rejection.change)
        default:
            return .refused(batch: batch, error: SessionHandler.told(
                error, "push failed", "the server could not store the batch; send it again", logger: logger), change: nil)
        }
    }
}

extension ServerSessionStateMachine.Action {
    /// Whether the action answers the client or ends the session, so that pushes being
    /// committed are answered first. A push's check and a timer are not.
    var waitsForPushes: Bool {
        switch self {
        case .none, .armTimer, .store: false
        default: true
        }
    }
}
