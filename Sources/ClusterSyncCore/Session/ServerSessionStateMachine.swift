import NIOCore

/// The server's side of one session (Protocol/PROTOCOL.md, "Sessions"): events in, actions out,
/// no I/O.
///
/// States: `awaitingHello` → `authenticating` (the hello is being checked) → `ready` → `closed`.
/// The channel handler feeds it every line and every result of the work it asked for, and
/// performs the action returned. It runs one request (`authenticate`, `store`, `fetch`,
/// `subscribe`) at a time, in the order the lines came, so answers go out in that order; lines
/// that arrive meanwhile wait in the handler.
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
        /// Validate the push (`PushValidation.validate(_:for:nowMillis:limits:)` with `identity`)
        /// and store it whole or not at all. Then call `pushStored(_:)` or
        /// `pushFailed(batch:error:change:)`.
        case store(Push)
        /// Read a page of changes after `pull.cursor`, at most `pull.limit` (always set, and
        /// within `maxChangesPerPage`). Then call `fetched(_:)` or `requestFailed(_:)`.
        case fetch(Pull)
        /// Start sending changes after `subscribe.cursor` (nil: the current end of the stream).
        /// Then call `subscribed(at:)` or `requestFailed(_:)`; afterwards, `published(_:)` for
        /// every page of changes the subscription yields.
        case subscribe(Subscribe)
        /// Write the error's line if there is one, then close the connection.
        case close(WireError?)
        /// Nothing to do.
        case none
    }

    enum Subscription: Sendable {
        case none
        /// Asked for; waiting for `subscribed(at:)`.
        case requested
        case active
    }

    enum State: Sendable {
        case awaitingHello
        case authenticating
        case ready(SessionIdentity, Subscription)
        case closed
    }

    public let limits: WireLimits
    /// Whether TLS identified the client by its certificate.
    public let certificateIdentity: Bool
    private var state: State = .awaitingHello

    public init(limits: WireLimits, certificateIdentity: Bool) {
        self.limits = limits
        self.certificateIdentity = certificateIdentity
    }

    /// Who the client is, once welcomed.
    public var identity: SessionIdentity? {
        if case .ready(let identity, _) = state { return identity }
        return nil
    }

    /// Whether the session has ended: every event now returns `.none`.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Whether `published(_:)` sends pages.
    public var isSubscribed: Bool {
        if case .ready(_, .active) = state { return true }
        return false
    }

    // MARK: Lines

    /// One line from the client, without its terminator. Blank lines are ignored.
    public mutating func lineReceived(_ line: ByteBuffer) -> Action {
        if line.readableBytesView.allSatisfy(Self.isWhiteSpace) { return .none }
        return received { () throws(ClusterSyncError) in try WireCodec.decode(line) }
    }

    /// One line from the client, without its terminator. Blank lines are ignored.
    public mutating func lineReceived(_ line: some StringProtocol) -> Action {
        if line.utf8.allSatisfy(Self.isWhiteSpace) { return .none }
        return received { () throws(ClusterSyncError) in try WireCodec.decode(line) }
    }

    private mutating func received(_ decode: () throws(ClusterSyncError) -> WireMessage) -> Action {
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
            switch validClientMessage(decoded) {
            case .success(let m): message = m
            case .failure(let error): return .send(.error(error))
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
                return .authenticate(hello)
            case .bye:
                return close(nil)
            default:
                return fatal(.outOfOrder, "\(message.typeName) before hello: a session starts with hello")
            }

        case .ready(let identity, let subscription):
            let message: WireMessage
            switch validClientMessage(decoded) {
            case .success(let m): message = m
            case .failure(let error): return .send(.error(error))
            }
            switch message {
            case .hello:
                return fatal(.outOfOrder, "hello again: this session has already been welcomed")
            case .push(let push):
                guard push.changes.count <= limits.maxChangesPerPush else {
                    return .send(.error(WireError(
                        code: ClusterSyncError.Code.batchTooLarge.rawValue,
                        message: "the batch has \(push.changes.count) changes and a push may hold at most \(limits.maxChangesPerPush): split it and push the parts in order",
                        fatal: false, batch: push.batch)))
                }
                return .store(push)
            case .pull(var pull):
                guard case .none = subscription else {
                    return fatal(.outOfOrder, "pull on a subscribed session: the server sends changes as they come")
                }
                pull.limit = min(pull.limit ?? limits.maxChangesPerPage, limits.maxChangesPerPage)
                return .fetch(pull)
            case .subscribe(let subscribe):
                guard case .none = subscription else {
                    return fatal(.outOfOrder, "subscribe again: this session is already subscribed")
                }
                state = .ready(identity, .requested)
                return .subscribe(subscribe)
            case .ping(let ping):
                return .send(.pong(ping))
            case .bye:
                return close(nil)
            case .welcome, .ack, .changes, .snapshot, .subscribed, .pong, .error:
                preconditionFailure("validClientMessage lets only client messages through")
            }
        }
    }

    /// A decoded message a client may send, or the non-fatal error that answers the line.
    private func validClientMessage(_ decoded: Result<WireMessage, ClusterSyncError>) -> Result<WireMessage, WireError> {
        switch decoded {
        case .failure(let error):
            return .failure(WireError(error, fatal: false))
        case .success(let message) where !message.isClientMessage:
            return .failure(WireError(
                code: ClusterSyncError.Code.unknownMessage.rawValue,
                message: "\(message.typeName) is sent by the server, not to it; a client sends hello, push, pull, subscribe, ping or bye",
                fatal: false))
        case .success(let message):
            return .success(message)
        }
    }

    /// The line decoder refused a line longer than `limits.maxLineBytes`.
    public mutating func lineTooLong() -> Action {
        fatal(.lineTooLong, "a line may be at most \(limits.maxLineBytes) bytes, newline included; split large pushes into smaller batches")
    }

    // MARK: Results of the actions

    /// The hello's credentials are good: welcome the client.
    public mutating func authenticated(_ identity: SessionIdentity, server: String) -> Action {
        switch state {
        case .closed: return .none
        case .authenticating:
            state = .ready(identity, .none)
            return .send(.welcome(Welcome(identity: identity, limits: limits, server: server)))
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

    /// The push was stored (or was all duplicates).
    public mutating func pushStored(_ ack: Ack) -> Action {
        answer(.ack(ack))
    }

    /// The push was refused whole: by `PushValidation` (pass the rejection's change), by the
    /// store, or by a storage failure (`internal`). Not fatal.
    public mutating func pushFailed(batch: String, error: ClusterSyncError, change: ChangeID?) -> Action {
        answer(.error(WireError(error, fatal: false, batch: batch, change: change)))
    }

    /// The page a `fetch` asked for.
    public mutating func fetched(_ page: ChangesPage) -> Action {
        answer(.changes(page))
    }

    /// The subscription has started after `cursor`.
    public mutating func subscribed(at cursor: Cursor) -> Action {
        switch state {
        case .closed: return .none
        case .ready(let identity, .requested):
            state = .ready(identity, .active)
            return .send(.subscribed(Subscribed(cursor: cursor)))
        case .awaitingHello, .authenticating, .ready: preconditionFailure("subscribed without a subscribe action")
        }
    }

    /// New changes for a subscribed session (pushed by other sessions, or the backlog after the
    /// subscription's cursor). Sent only once the subscription is active; `.none` otherwise.
    public mutating func published(_ page: ChangesPage) -> Action {
        isSubscribed ? .send(.changes(page)) : .none
    }

    /// A `fetch` or `subscribe` failed (`cursor-expired`, a cursor the server did not issue
    /// (`malformed`), a storage failure (`internal`)). Not fatal; a failed subscribe leaves the
    /// session unsubscribed.
    public mutating func requestFailed(_ error: ClusterSyncError) -> Action {
        if case .ready(let identity, .requested) = state { state = .ready(identity, .none) }
        return answer(.error(WireError(error, fatal: false)))
    }

    private func answer(_ message: WireMessage) -> Action {
        switch state {
        case .closed: return .none
        case .ready: return .send(message)
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

    private static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
