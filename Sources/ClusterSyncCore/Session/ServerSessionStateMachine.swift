import NIOCore

/// The server's side of one session (Protocol/PROTOCOL.md, "Sessions"): events in, actions out,
/// no I/O.
///
/// States: `awaitingHello` → `authenticating` (the hello is being checked) → `ready` → `closed`.
/// The channel handler feeds it every line and every result of the work it asked for, and
/// performs the action returned. It runs one request (`authenticate`, `store`, `fetch`,
/// `fetchSnapshot`, `fetchHistory`, `findStreamEnd`) at a time, in the order the lines came, so
/// answers go out in that order; lines that arrive meanwhile wait in the handler. Whether a
/// position was compacted away (`cursor-expired`) is the store's to say, in the read that serves
/// the pull.
///
/// It holds the rules of cursors (`StreamCursor`: a cursor past the end of the stream is refused
/// by `pull` and `subscribe` alike) and of subscriptions (where one starts, which pages it sends,
/// and that a session's own changes are not sent back to it).
///
/// Peer mistakes never trap: a line that cannot be decoded is answered with a non-fatal error,
/// a message the state does not allow closes the session with a fatal one. Calling a result
/// event the machine did not ask for (`authenticated` before any `authenticate`) is a bug in the
/// handler and traps; once closed, every event returns `.none`.
public struct ServerSessionStateMachine: Sendable {
    public enum Action: Sendable, Equatable {
        /// Write this message's line.
        case send(WireMessage)
        /// Check the credentials: the connection's client certificate if it has one, else
        /// `hello.token` (the machine has checked that exactly one of them is there). Then call
        /// `authenticated(_:server:)` or `authenticationFailed(_:)`.
        case authenticate(Hello)
        /// Validate the push (`PushValidation.validate(_:for:nowMillis:limits:keys:)` with `identity`
        /// and its makers' registered keys)
        /// and store it whole or not at all. Then call `pushStored(_:)` or
        /// `pushFailed(batch:error:change:)`.
        case store(Push)
        /// Read a page of changes after `pull.cursor`, at most `pull.limit` (always set, and
        /// within `maxChangesPerPage`). Then call `fetched(_:)` or `requestFailed(_:)`.
        case fetch(Pull)
        /// Read a page of the snapshot `pull` asks for (PROTOCOL.md §5.7): from the start when its
        /// cursor is nil, else after its `SnapshotCursor`; at most `pull.limit`. Then call
        /// `fetchedSnapshot(_:)` or `requestFailed(_:)`.
        case fetchSnapshot(Pull)
        /// Read a page of one record's changes (PROTOCOL.md §5.12), at most `request.limit`
        /// (always set). Then call `fetchedHistory(_:)` or `requestFailed(_:)`.
        case fetchHistory(HistoryRequest)
        /// Read the cursor at the current end of the tenant's stream. Then call `streamEnd(_:)`
        /// or `requestFailed(_:)`.
        case findStreamEnd
        /// Read the subscription's next page: the changes after `pull.cursor`, at most
        /// `pull.limit`. Then call `subscriptionPage(_:)`, `subscriptionExpired(_:)` or
        /// `subscriptionFailed()`.
        case fetchForSubscription(Pull)
        /// Call `timerFired()` at this deadline (or soon after); it replaces any earlier one.
        case armTimer(NIODeadline)
        /// Write the error's line if there is one, then close the connection.
        case close(WireError?)
        /// Nothing to do.
        case none
    }

    enum Subscription: Sendable {
        case none
        /// Asked for (from this cursor; nil: from now); waiting for `streamEnd(_:)`.
        case starting(Cursor?)
        /// Sending changes after `cursor`. `behind`: changes may wait after it.
        case active(cursor: Cursor, behind: Bool)
    }

    struct Ready: Sendable {
        var identity: SessionIdentity
        var subscription: Subscription = .none
        /// A pull whose cursor waits for `streamEnd(_:)` to be checked.
        var pendingPull: Pull?
        /// A read-only session's roll-up and escalated list as last sent (by a pull's answer
        /// or the subscription): a subscription page that changes neither and carries no
        /// changes is not sent.
        var lastOversight: OversightPage?
        /// The subscription's page reads that have failed in a row, and when to read it again:
        /// a PCPG's subscription may see no push for hours, so it does not wait for one.
        var failedReads = 0
        var retryDue: NIODeadline?
    }

    enum State: Sendable {
        case awaitingHello
        case authenticating
        case ready(Ready)
        case closed
    }

    public let limits: WireLimits
    public let sessionLimits: SessionLimits
    /// Whether TLS identified the client by its certificate.
    public let certificateIdentity: Bool
    private var state: State = .awaitingHello
    /// Pushes handed to the handler (`.store`) and not answered yet. The handler checks the next
    /// push while one commits, so a `bye` (or a fatal error) can come before a push is answered:
    /// its answer still goes out, since its commit may have happened.
    private var pushesInFlight = 0
    /// The monotonic clock the timeouts are measured with (injected, so tests can move it).
    private let clock: @Sendable () -> NIODeadline
    /// When `start()` was called: the hello is due `helloTimeout` after it.
    private var startedAt: NIODeadline?
    /// Lines before hello that were not messages, each answered: a client mistyping by hand
    /// sees why, and after `maxUndecodableBeforeHello` the session is closed. Unbounded, one TLS
    /// record of 16 KiB of short lines (all `maxBytesBeforeWelcome` allows) bought 8,192
    /// decodes and error lines, and the hello's deadline, queued behind them, came late.
    private var undecodableBeforeHello = 0
    public static let maxUndecodableBeforeHello = 4
    /// When the client last sent a line, or the server last answered one: a welcomed session
    /// closes `idleTimeoutMillis` after it.
    private var lastActivity: NIODeadline
    /// The client's replica, from its hello: its own changes are not sent back by a subscription.
    public private(set) var replica: ReplicaID?

    public init(
        limits: WireLimits, certificateIdentity: Bool, sessionLimits: SessionLimits = .default,
        clock: @escaping @Sendable () -> NIODeadline = { NIODeadline.now() }
    ) {
        self.limits = limits
        self.sessionLimits = sessionLimits
        self.certificateIdentity = certificateIdentity
        self.clock = clock
        self.lastActivity = clock()
    }

    /// Who the client is, once welcomed.
    public var identity: SessionIdentity? {
        if case .ready(let ready) = state { return ready.identity }
        return nil
    }

    /// Whether the session has ended: every event now returns `.none`.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Whether the session is subscribed (the handler then passes on `streamGrew()`).
    public var isSubscribed: Bool {
        if case .ready(let ready) = state, case .active = ready.subscription { return true }
        return false
    }

    /// Whether the subscription has more to send than its last page held (`catchUp` would fetch).
    public var isCatchingUp: Bool {
        if case .ready(let ready) = state, case .active(_, true) = ready.subscription { return true }
        return false
    }

    // MARK: Time

    /// The connection is ready for lines (TLS is done): the hello is due within `helloTimeout`.
    public mutating func start() -> Action {
        let now = clock()
        startedAt = now
        lastActivity = now
        return .armTimer(now + sessionLimits.helloTimeout)
    }

    /// The deadline of the last `armTimer` has come. Closes a session that has waited too long
    /// for its hello, or a welcomed one that has been quiet for `idleTimeoutMillis`; otherwise
    /// says when to look again. Checking the credentials is the server's wait, not the client's:
    /// it is not timed.
    public mutating func timerFired() -> Action {
        let now = clock()
        switch state {
        case .closed:
            return .none
        case .awaitingHello:
            guard let startedAt else { return .none }
            let deadline = startedAt + sessionLimits.helloTimeout
            guard now >= deadline else { return .armTimer(deadline) }
            return fatal(.timedOut, "no hello within \(Self.seconds(sessionLimits.helloTimeout)) of connecting: a session starts with hello")
        case .authenticating:
            return .armTimer(now + sessionLimits.helloTimeout)
        case .ready(var ready):
            var idleDeadline = self.idleDeadline
            if let deadline = idleDeadline, now >= deadline {
                let idle = TimeAmount.milliseconds(limits.idleTimeoutMillis)
                // A push still being stored is the server's wait, not the client's silence: its
                // answer restarts the idle time (a push that held the writer for minutes ended
                // its session as `timed-out`).
                guard pushesInFlight > 0 else {
                    return fatal(.timedOut,
                                 "no line for \(Self.seconds(idle)): send ping on a quiet session (the welcome's limits.idleTimeoutMillis says how often), and reconnect now")
                }
                idleDeadline = now + idle
            }
            // A failed subscription read that is due is owed again: `catchUp()` reads it.
            if let due = ready.retryDue, now >= due, case .active(let cursor, _) = ready.subscription {
                ready.retryDue = nil
                ready.subscription = .active(cursor: cursor, behind: true)
                state = .ready(ready)
            }
            return Self.earliest(idleDeadline, ready.retryDue).map(Action.armTimer) ?? .none
        }
    }

    /// When a welcomed session that stays quiet is closed; nil when it never is.
    private var idleDeadline: NIODeadline? {
        limits.idleTimeoutMillis > 0 ? lastActivity + .milliseconds(limits.idleTimeoutMillis) : nil
    }

    private static func earliest(_ first: NIODeadline?, _ second: NIODeadline?) -> NIODeadline? {
        switch (first, second) {
        case (let first?, let second?): min(first, second)
        case (let only?, nil), (nil, let only?): only
        case (nil, nil): nil
        }
    }

    /// The client sent more than `sessionLimits.maxBytesBeforeWelcome` bytes before it was
    /// welcomed (the handler stops reading them).
    public mutating func tooMuchBeforeWelcome() -> Action {
        fatal(.lineTooLong, "before welcome a client may send at most \(sessionLimits.maxBytesBeforeWelcome) bytes: send hello, one short line, and wait for welcome")
    }

    /// The credential of the hello being checked already has as many sessions open as the
    /// server allows. `message` names the limit and what to do.
    public mutating func tooManyConnections(_ message: String) -> Action {
        switch state {
        case .closed: return .none
        case .authenticating: return fatal(.tooManyConnections, message)
        case .awaitingHello, .ready: preconditionFailure("tooManyConnections without an authenticate action")
        }
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let millis = amount.nanoseconds / 1_000_000
        return millis % 1000 == 0 ? "\(millis / 1000) s" : "\(millis) ms"
    }

    // MARK: Lines

    /// One line from the client, without its terminator. Blank lines are ignored.
    public mutating func lineReceived(_ line: ByteBuffer) -> Action {
        lastActivity = clock()
        if Self.isBlank(line) { return .none }
        return received { () throws(ClusterSyncError) in try WireCodec.decodeClientMessage(line) }
    }

    /// One line from the client, without its terminator. Blank lines are ignored.
    public mutating func lineReceived(_ line: some StringProtocol) -> Action {
        lastActivity = clock()
        if line.utf8.allSatisfy(Self.isWhiteSpace) { return .none }
        return received { () throws(ClusterSyncError) in try WireCodec.decodeClientMessage(line) }
    }

    private mutating func received(_ decode: () throws(ClusterSyncError) -> WireMessage) -> Action {
        // Lines read from one TLS record with the one that closed the session are not decoded.
        if case .closed = state { return .none }
        let decoded: Result<WireMessage, ClusterSyncError>
        do throws(ClusterSyncError) {
            decoded = .success(try decode())
        } catch {
            decoded = .failure(error)
        }

        switch state {
        case .closed:
            return .none

        case .authenticating:
            if case .success(.bye) = decoded { return close(nil) }
            let what = (try? decoded.get()).map(\.typeName) ?? "a line"
            return fatal(.outOfOrder, "\(what) before welcome: after hello, wait for the server's welcome")

        case .awaitingHello:
            let message: WireMessage
            switch decoded {
            case .success(let m): message = m
            case .failure(let error):
                undecodableBeforeHello += 1
                guard undecodableBeforeHello <= Self.maxUndecodableBeforeHello else {
                    return fatal(error.code, "\(error.message); more than \(Self.maxUndecodableBeforeHello) "
                                 + "lines before hello were not messages: a session starts with hello")
                }
                return .send(.error(WireError(error, fatal: false)))
            }
            switch message {
            case .hello(let hello):
                guard hello.version == ProtocolVersion.current else {
                    return fatal(.versionUnsupported,
                                 "this server speaks protocol version \(ProtocolVersion.current) only; the client asked for version \(hello.version)")
                }
                if certificateIdentity, hello.token != nil {
                    return fatal(.unauthenticated,
                                 "this connection presented a client certificate, which identifies the practice: send hello without a token")
                }
                if !certificateIdentity, hello.token == nil {
                    return fatal(.unauthenticated,
                                 "no credentials: connect with a practice certificate, or send a token in hello")
                }
                state = .authenticating
                replica = hello.replica
                return .authenticate(hello)
            case .bye:
                return close(nil)
            default:
                return fatal(.outOfOrder, "\(message.typeName) before hello: a session starts with hello")
            }

        case .ready(var ready):
            let message: WireMessage
            switch decoded {
            case .success(let m): message = m
            case .failure(let error): return .send(.error(WireError(error, fatal: false)))
            }
            switch message {
            case .hello:
                return fatal(.outOfOrder, "hello again: this session has already been welcomed")
            case .push(let push):
                // A read-only role (pcpg, health-board) writes nothing, whatever the batch holds.
                if let refusal = ready.identity.role.writeRefusal {
                    return .send(.error(WireError(refusal, fatal: false, batch: push.batch, change: push.changes.first?.id)))
                }
                guard push.changes.count <= limits.maxChangesPerPush else {
                    return .send(.error(WireError(
                        code: ClusterSyncError.Code.batchTooLarge.rawValue,
                        message: "the batch has \(push.changes.count) changes and a push may hold at most \(limits.maxChangesPerPush): split it and push the parts in order",
                        fatal: false, batch: push.batch)))
                }
                guard push.supersedeCount <= Push.maxSupersedes else {
                    return .send(.error(WireError(
                        code: ClusterSyncError.Code.batchTooLarge.rawValue,
                        message: "the batch's changes supersede \(push.supersedeCount) changes together (counting those a delete has seen) and a push may name at most \(Push.maxSupersedes): split it and push the parts in order",
                        fatal: false, batch: push.batch)))
                }
                pushesInFlight += 1
                return .store(push)
            case .pull(var pull):
                guard case .none = ready.subscription else {
                    return fatal(.outOfOrder, "pull on a subscribed session: the server sends changes as they come")
                }
                pull.limit = min(pull.limit ?? limits.maxChangesPerPage, limits.maxChangesPerPage)
                // A snapshot cursor continues a snapshot; `snapshot: true` without one starts one.
                if let cursor = pull.cursor, SnapshotCursor.isSnapshotCursor(cursor) {
                    pull.snapshot = true
                } else if let cursor = pull.cursor, OversightCursor.isOversightCursor(cursor) {
                    // Continues a read-only session's paged page (PROTOCOL.md §7.1): a pull,
                    // even after a snapshot's first page.
                    pull.snapshot = false
                } else if pull.snapshot {
                    pull.cursor = nil
                }
                guard let cursor = pull.cursor else { return pull.snapshot ? .fetchSnapshot(pull) : .fetch(pull) }
                do throws(ClusterSyncError) {
                    if pull.snapshot { _ = try SnapshotCursor(cursor) } else { _ = try StreamCursor.position(of: Self.streamCursor(of: cursor)) }
                } catch {
                    return .send(.error(WireError(error, fatal: false)))
                }
                ready.pendingPull = pull
                state = .ready(ready)
                return .findStreamEnd
            case .subscribe(let subscribe):
                guard case .none = ready.subscription else {
                    return fatal(.outOfOrder, "subscribe again: this session is already subscribed")
                }
                if let cursor = subscribe.cursor {
                    do throws(ClusterSyncError) {
                        _ = try StreamCursor.position(of: cursor)
                    } catch {
                        return .send(.error(WireError(error, fatal: false)))
                    }
                }
                ready.subscription = .starting(subscribe.cursor)
                state = .ready(ready)
                return .findStreamEnd
            case .ping(let ping):
                return .send(.pong(ping))
            case .history(var request):
                request.limit = min(request.limit ?? limits.maxChangesPerPage, limits.maxChangesPerPage)
                return .fetchHistory(request)
            case .bye:
                return close(nil)
            case .welcome, .ack, .changes, .snapshot, .subscribed, .pong, .error, .historyPage:
                // decodeClientMessage refuses these by their type.
                return .send(.error(WireError(code: ClusterSyncError.Code.unknownMessage.rawValue,
                                              message: "\(message.typeName) is sent by the server, not to it", fatal: false)))
            }
        }
    }

    /// The line decoder refused a line longer than `limits.maxLineBytes`.
    public mutating func lineTooLong() -> Action {
        fatal(.lineTooLong, "a line may be at most \(limits.maxLineBytes) bytes, newline included; split large pushes into smaller batches")
    }

    // MARK: Results of the actions

    /// The hello's credentials are good: welcome the client.
    /// `credentialExpiresAt` (ms since 1970) goes into the welcome, so the client can warn.
    /// `store` (the store's identity) goes into the welcome too, so a client can tell a restored
    /// store, and `head` (the tenant's chain head), so the client keeps a copy.
    public mutating func authenticated(_ identity: SessionIdentity, server: String, credentialExpiresAt: Int64? = nil, store: String? = nil,
                                       head: LedgerHead? = nil) -> Action {
        switch state {
        case .closed: return .none
        case .authenticating:
            state = .ready(Ready(identity: identity))
            lastActivity = clock()
            var welcome = Welcome(identity: identity, limits: limits, server: server)
            welcome.credentialExpiresAt = credentialExpiresAt
            welcome.store = store
            welcome.head = head
            return .send(.welcome(welcome))
        case .awaitingHello, .ready: preconditionFailure("authenticated without an authenticate action")
        }
    }

    /// The hello's credentials are unknown, revoked, or name an unregistered practice. `message`
    /// is sent to the client: say what to do, never why a secret failed.
    public mutating func authenticationFailed(_ message: String) -> Action {
        switch state {
        case .closed: return .none
        case .authenticating: return fatal(.unauthenticated, message)
        case .awaitingHello, .ready: preconditionFailure("authenticationFailed without an authenticate action")
        }
    }

    /// The hello's key is not the one registered for its replica id, or the replica is another
    /// practice's, or was retired (`ReplicaKeys.decide`): fatal, with the refusal's code
    /// (`key-mismatch`, `replica-retired`).
    public mutating func keyRefused(_ refusal: ClusterSyncError) -> Action {
        switch state {
        case .closed: return .none
        case .authenticating: return fatal(refusal.code, refusal.message)
        case .awaitingHello, .ready: preconditionFailure("keyRefused without an authenticate action")
        }
    }

    /// The session's credential has been revoked or has expired since its hello: whatever the
    /// client sent is refused, with `unauthenticated`, and the session closes.
    public mutating func credentialWithdrawn(_ message: String) -> Action {
        fatal(.unauthenticated, message)
    }

    /// The push was stored (or was all duplicates).
    public mutating func pushStored(_ ack: Ack) -> Action {
        answerPush(.ack(ack))
    }

    /// The push was refused whole: by `PushValidation` (pass the rejection's change), by the
    /// store, or by a storage failure (`internal`). Not fatal.
    public mutating func pushFailed(batch: String, error: ClusterSyncError, change: ChangeID?) -> Action {
        answerPush(.error(WireError(error, fatal: false, batch: batch, change: change)))
    }

    private mutating func answerPush(_ message: WireMessage) -> Action {
        guard pushesInFlight > 0 else { return answer(message) }
        pushesInFlight -= 1
        if case .closed = state { return .send(message) }
        return answer(message)
    }

    /// The stream cursor a pull's cursor stands for, checked against the stream's end: itself,
    /// or the position an oversight page's continuation ends at (`malformed` if misspelled).
    static func streamCursor(of cursor: Cursor) throws(ClusterSyncError) -> Cursor {
        OversightCursor.isOversightCursor(cursor) ? try OversightCursor(cursor).endCursor : cursor
    }

    /// The page a `fetch` asked for.
    public mutating func fetched(_ page: ChangesPage) -> Action {
        if case .ready(var ready) = state, let oversight = page.oversight {
            ready.lastOversight = oversight
            state = .ready(ready)
        }
        return answer(.changes(page))
    }

    /// The snapshot page a `fetchSnapshot` asked for.
    public mutating func fetchedSnapshot(_ page: Snapshot) -> Action {
        if case .ready(var ready) = state, let oversight = page.oversight {
            ready.lastOversight = oversight
            state = .ready(ready)
        }
        return answer(.snapshot(page))
    }

    /// The history page a `fetchHistory` asked for.
    public mutating func fetchedHistory(_ page: HistoryPage) -> Action {
        answer(.historyPage(page))
    }

    /// The cursor at the current end of the tenant's stream, which `findStreamEnd` asked for:
    /// checks the pending pull's cursor, or starts the subscription.
    public mutating func streamEnd(_ end: Cursor) -> Action {
        guard case .ready(var ready) = state else {
            if case .closed = state { return .none }
            preconditionFailure("streamEnd without a findStreamEnd action")
        }
        if let pull = ready.pendingPull {
            ready.pendingPull = nil
            state = .ready(ready)
            do throws(ClusterSyncError) {
                if pull.snapshot, let cursor = pull.cursor {
                    let snapshot = try SnapshotCursor(cursor)
                    _ = try StreamCursor.position(of: StreamCursor.cursor(at: snapshot.end), end: end)
                    return .fetchSnapshot(pull)
                }
                _ = try StreamCursor.position(of: Self.streamCursor(of: pull.cursor ?? end), end: end)
                return .fetch(pull)
            } catch {
                return .send(.error(WireError(error, fatal: false)))
            }
        }
        guard case .starting(let requested) = ready.subscription else {
            preconditionFailure("streamEnd without a findStreamEnd action")
        }
        let start = requested ?? end
        do throws(ClusterSyncError) {
            _ = try StreamCursor.position(of: start, end: end)
        } catch {
            ready.subscription = .none
            state = .ready(ready)
            return .send(.error(WireError(error, fatal: false)))
        }
        // What arrived after the cursor before the subscription started goes out first.
        ready.subscription = .active(cursor: start, behind: true)
        state = .ready(ready)
        return .send(.subscribed(Subscribed(cursor: start)))
    }

    /// A `fetch` or `findStreamEnd` failed (a storage failure: `internal`). Not fatal; a failed
    /// subscribe leaves the session unsubscribed.
    public mutating func requestFailed(_ error: ClusterSyncError) -> Action {
        if case .ready(var ready) = state {
            ready.pendingPull = nil
            if case .starting = ready.subscription { ready.subscription = .none }
            state = .ready(ready)
        }
        return answer(.error(WireError(error, fatal: false)))
    }

    // MARK: Subscription

    /// Another session pushed to this tenant: a subscribed session fetches what is new.
    public mutating func streamGrew() -> Action {
        guard case .ready(var ready) = state, case .active(let cursor, _) = ready.subscription else { return .none }
        ready.subscription = .active(cursor: cursor, behind: true)
        state = .ready(ready)
        return catchUp()
    }

    /// The work a subscribed session owes between requests: the handler calls this after each
    /// event's actions are done, and performs what it returns (`.fetchForSubscription` while the
    /// subscription may be behind, else `.none`).
    public mutating func catchUp() -> Action {
        guard case .ready(var ready) = state, case .active(let cursor, true) = ready.subscription else { return .none }
        ready.subscription = .active(cursor: cursor, behind: false)
        state = .ready(ready)
        return .fetchForSubscription(Pull(cursor: cursor, limit: limits.maxChangesPerPage))
    }

    /// The page `fetchForSubscription` asked for: sends the changes in it but the session's own
    /// (its replica's; the `ack` confirmed them), and moves the subscription past all of them.
    /// A store leaves the own changes out of `storedTexts` itself (the handler passes `replica`).
    public mutating func subscriptionPage(_ page: ChangesPage) -> Action {
        guard case .ready(var ready) = state, case .active(_, let behind) = ready.subscription else { return .none }
        ready.subscription = .active(cursor: page.cursor, behind: behind || page.more)
        ready.failedReads = 0
        ready.retryDue = nil
        var sent = page
        sent.changes.removeAll { $0.id.replica == replica }
        // A read-only session's roll-up or escalated list that changed goes out even without
        // changes (a practice's push moved a count, or withdrew a risk).
        let oversightChanged = page.oversight != nil && page.oversight != ready.lastOversight
        if oversightChanged { ready.lastOversight = page.oversight }
        state = .ready(ready)
        // Rows the server cannot read go out too, for the replica to set aside (changes.md §8.0).
        return sent.changes.isEmpty && sent.storedTexts.isEmpty && sent.unreadable.isEmpty && !oversightChanged ? .none : .send(.changes(sent))
    }

    /// The subscription's page could not be read (the handler logs why). The session stays
    /// subscribed at the same cursor and reads again at the next push or after
    /// `SessionLimits.subscriptionRetry`, doubled at each failure in a row up to
    /// `maxSubscriptionRetry`; the timer it arms says when (`timerFired()` then owes the page).
    public mutating func subscriptionFailed() -> Action {
        guard case .ready(var ready) = state, case .active = ready.subscription else { return .none }
        ready.failedReads += 1
        let delay = sessionLimits.subscriptionRetryDelay(afterFailures: ready.failedReads)
        let due = clock() + delay
        ready.retryDue = due
        state = .ready(ready)
        return .armTimer(Self.earliest(idleDeadline, due) ?? due)
    }

    /// The subscription's position is no longer kept: the store compacted its history past it
    /// (`cursor-expired`), so no later read can serve it. The subscription ends with the store's
    /// error, non-fatal: the client may pull a snapshot and subscribe again (PROTOCOL.md §8).
    public mutating func subscriptionExpired(_ error: ClusterSyncError) -> Action {
        guard case .ready(var ready) = state, case .active = ready.subscription else { return .none }
        ready.subscription = .none
        ready.failedReads = 0
        ready.retryDue = nil
        state = .ready(ready)
        return answer(.error(WireError(error, fatal: false)))
    }

    private mutating func answer(_ message: WireMessage) -> Action {
        switch state {
        case .closed: return .none
        case .ready:
            // A slow answer is the server's wait: the idle time counts from when it went out.
            lastActivity = clock()
            return .send(message)
        case .awaitingHello, .authenticating: preconditionFailure("\(message.typeName) answers a request the session has not made")
        }
    }

    // MARK: Ending

    /// The server is stopping: tell the client and close.
    public mutating func shutdown() -> Action {
        fatal(.shuttingDown, "the server is shutting down: reconnect in a minute")
    }

    private mutating func fatal(_ code: ClusterSyncError.Code, _ message: String) -> Action {
        close(WireError(code: code.rawValue, message: message, fatal: true))
    }

    private mutating func close(_ error: WireError?) -> Action {
        if case .closed = state { return .none }
        state = .closed
        return .close(error)
    }

    /// A blank line: nothing to answer (it only shows the client is there).
    public static func isBlank(_ line: ByteBuffer) -> Bool {
        line.readableBytesView.allSatisfy(isWhiteSpace)
    }

    private static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}

/// What a session may cost the server before it is welcomed (Protocol/PROTOCOL.md §10). The idle
/// timeout of a welcomed session is `WireLimits.idleTimeoutMillis`, announced in `welcome`.
public struct SessionLimits: Sendable, Equatable {
    /// How long after the TLS handshake the hello must arrive.
    public var helloTimeout: TimeAmount
    /// The most bytes a client may send before it is welcomed: its hello, and a few mistakes.
    public var maxBytesBeforeWelcome: Int
    /// How long the server waits for a client to take what it was sent, once the connection
    /// holds all it may: a client that stops reading is then closed. Its session's timers wait
    /// behind that write, so without this bound a silent client would hold the connection for
    /// good, hello or no hello.
    public var writeTimeout: TimeAmount

    /// How long after a subscription's page read failed it is read again; doubled at each
    /// failure in a row, up to `maxSubscriptionRetry`.
    public var subscriptionRetry: TimeAmount
    public var maxSubscriptionRetry: TimeAmount

    public init(
        helloTimeout: TimeAmount = .seconds(10), maxBytesBeforeWelcome: Int = 16 * 1024, writeTimeout: TimeAmount = .seconds(30),
        subscriptionRetry: TimeAmount = .seconds(1), maxSubscriptionRetry: TimeAmount = .seconds(60)
    ) {
        self.helloTimeout = helloTimeout
        self.maxBytesBeforeWelcome = maxBytesBeforeWelcome
        self.writeTimeout = writeTimeout
        self.subscriptionRetry = subscriptionRetry
        self.maxSubscriptionRetry = maxSubscriptionRetry
    }

    /// The wait before reading a subscription's page again after `failures` reads in a row failed.
    func subscriptionRetryDelay(afterFailures failures: Int) -> TimeAmount {
        var delay = subscriptionRetry
        for _ in 1..<max(failures, 1) where delay < maxSubscriptionRetry { delay = delay * 2 }
        return min(delay, maxSubscriptionRetry)
    }

    public static let `default` = SessionLimits()
}
