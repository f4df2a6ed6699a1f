import ClusterSyncCore
import ClusterSyncTLS
import Foundation
import Logging
import Metrics
import NIOCore
import ServiceLifecycle

/// Runs one connection: turns what happens (a line, a too-long line, another session's push, a
/// shutdown) into events for `ServerSessionStateMachine`, and performs the actions it returns
/// against the store. Holds no protocol rules of its own, and handles one request at a time, so
/// answers go out in the order requests came in.
struct SessionHandler: Sendable {
    let store: any ServerStore
    let notifier: ChangeNotifier
    let limits: WireLimits
    let logger: Logger
    /// The wall clock for the push checks, in milliseconds since 1970.
    var nowMillis: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    var serverName = "clustersyncd/1"

    /// For whatever metrics backend the operator bootstraps (none by default).
    static let sessions = Counter(label: "clustersyncd_sessions_total")
    static let accepted = Counter(label: "clustersyncd_changes_accepted_total")
    static let duplicates = Counter(label: "clustersyncd_changes_duplicate_total")
    static let refused = Counter(label: "clustersyncd_pushes_refused_total")

    enum Event: Sendable {
        case line(ByteBuffer)
        case lineTooLong
        case inboundClosed
        /// Another session pushed to this tenant.
        case published
        case shutdown
    }

    /// Adds the session's handlers to a connection's pipeline (after TLS, if any) and wraps it
    /// for `run`. Call on the channel's event loop.
    static func wrap(_ channel: any Channel, limits: WireLimits) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: limits.maxLineBytes)))
        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
    }

    func run(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, certificateIdentity: EventLoopFuture<CertificateIdentity?>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                let certificate = try await certificateIdentity.get()
                let (events, sink) = AsyncStream<Event>.makeStream()
                try await withGracefulShutdownHandler {
                    await withTaskGroup(of: Void.self) { tasks in
                        tasks.addTask {
                            do {
                                for try await line in inbound { sink.yield(.line(line)) }
                            } catch let error as ClusterSyncError where error.code == .lineTooLong {
                                sink.yield(.lineTooLong)
                            } catch {}
                            sink.yield(.inboundClosed)
                        }
                        await self.serve(events, sink, outbound, certificate, tasks: &tasks)
                        sink.finish()
                        tasks.cancelAll()
                    }
                } onGracefulShutdown: {
                    sink.yield(.shutdown)
                }
            }
        } catch {
            logger.debug("connection closed", metadata: ["clustersyncd.error": "\(error)"])
        }
    }

    private func serve(
        _ events: AsyncStream<Event>, _ sink: AsyncStream<Event>.Continuation,
        _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, _ certificate: CertificateIdentity?,
        tasks: inout TaskGroup<Void>
    ) async {
        var subscription: (tenant: String, id: Int)?
        await serve(events, sink, outbound, certificate, &subscription, tasks: &tasks)
        if let subscription { await notifier.unsubscribe(tenant: subscription.tenant, id: subscription.id) }
    }

    private func serve(
        _ events: AsyncStream<Event>, _ sink: AsyncStream<Event>.Continuation,
        _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, _ certificate: CertificateIdentity?,
        _ subscription: inout (tenant: String, id: Int)?, tasks: inout TaskGroup<Void>
    ) async {
        var machine = ServerSessionStateMachine(limits: limits, certificateIdentity: certificate != nil)
        for await event in events {
            let action: ServerSessionStateMachine.Action
            switch event {
            case .line(let line): action = machine.lineReceived(line)
            case .lineTooLong: action = machine.lineTooLong()
            case .inboundClosed: return
            case .shutdown: action = machine.shutdown()
            case .published: action = machine.streamGrew()
            }
            guard await perform(action, &machine, certificate, outbound) else { return }
            // A subscription that has just started listens for pushes before it catches up, so
            // that nothing pushed in between is missed.
            if machine.isSubscribed, subscription == nil, let tenant = machine.identity?.tenant {
                let wakeups = await notifier.subscribe(tenant: tenant)
                subscription = (tenant, wakeups.id)
                tasks.addTask {
                    for await _ in wakeups.stream { sink.yield(.published) }
                }
            }
            guard await perform(machine.catchUp(), &machine, certificate, outbound) else { return }
        }
    }

    /// Performs `action` and the actions that follow from its results, until one needs a new
    /// event. Returns false once the session has closed.
    private func perform(
        _ first: ServerSessionStateMachine.Action, _ machine: inout ServerSessionStateMachine,
        _ certificate: CertificateIdentity?, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async -> Bool {
        var action = first
        while true {
            switch action {
            case .none:
                return true
            case .send(let message):
                await send(message, outbound)
                return true
            case .close(let error):
                if let error { await send(.error(error), outbound) }
                return false
            case .authenticate(let hello):
                action = await authenticate(hello, certificate, &machine)
            case .store(let push):
                action = await store(push, from: machine.replica, &machine)
            case .fetch(let pull):
                action = await fetch(pull, &machine)
            case .findStreamEnd:
                action = await findStreamEnd(&machine)
            case .fetchForSubscription(let pull):
                action = await fetchForSubscription(pull, &machine)
            }
        }
    }

    private func send(_ message: WireMessage, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        var buffer = ByteBuffer()
        WireCodec.encode(message, into: &buffer)
        try? await outbound.write(buffer)
    }

    private func authenticate(
        _ hello: Hello, _ certificate: CertificateIdentity?, _ machine: inout ServerSessionStateMachine
    ) async -> ServerSessionStateMachine.Action {
        do {
            let identity: SessionIdentity
            if let certificate {
                let path = PracticePath(tenant: certificate.tenant, cluster: certificate.cluster, practice: certificate.practice)
                guard try await store.isRegistered(path) else {
                    return machine.authenticationFailed("the certificate's practice \(path) is not registered on this server")
                }
                identity = SessionIdentity(tenant: path.tenant, cluster: path.cluster, practice: path.practice, author: path.practice)
            } else {
                guard let token = hello.token, let known = try await store.authenticate(token: token) else {
                    return machine.authenticationFailed("the token is unknown or revoked: ask the cluster's administrator for a new one")
                }
                identity = known
            }
            logger.info("session", metadata: [
                "clustersyncd.practice": "\(identity.tenant)/\(identity.cluster)/\(identity.practice)",
                "clustersyncd.replica": "\(hello.replica)",
                "clustersyncd.credential": "\(certificate == nil ? "token" : "certificate")",
            ])
            Self.sessions.increment()
            return machine.authenticated(identity, server: serverName)
        } catch {
            logger.error("authentication failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.authenticationFailed("the server could not check the credential; try again")
        }
    }

    private func store(_ push: Push, from replica: ReplicaID?, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            try PushValidation.validate(push, for: identity, nowMillis: nowMillis(), limits: limits)
        } catch {
            Self.refused.increment()
            return machine.pushFailed(batch: push.batch, error: error.error, change: error.change)
        }
        do {
            let outcome = try await store.push(push.changes, as: identity, from: replica)
            if outcome.accepted > 0 { await notifier.notify(tenant: identity.tenant) }
            Self.accepted.increment(by: outcome.accepted)
            Self.duplicates.increment(by: outcome.duplicates)
            logger.debug("push", metadata: ["clustersyncd.accepted": "\(outcome.accepted)", "clustersyncd.duplicates": "\(outcome.duplicates)"])
            return machine.pushStored(Ack(batch: push.batch, accepted: outcome.accepted, duplicates: outcome.duplicates, author: identity.author))
        } catch let rejection as PushRejection {
            Self.refused.increment()
            return machine.pushFailed(batch: push.batch, error: rejection.error, change: rejection.change)
        } catch let error as ClusterSyncError where error.isUserError {
            if error.code == .storeUnavailable {
                logger.error("push refused: the store cannot be written; run `clustersyncd health`", metadata: ["clustersyncd.error": "\(error.message)"])
            }
            return machine.pushFailed(batch: push.batch, error: error, change: nil)
        } catch {
            logger.error("push failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.pushFailed(batch: push.batch, error: ClusterSyncError(.internal, "the server could not store the batch; send it again"), change: nil)
        }
    }

    private func fetch(_ pull: Pull, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            return machine.fetched(try await store.pull(for: identity, after: pull.cursor, limit: pull.limit ?? limits.maxChangesPerPage))
        } catch let error as ClusterSyncError where error.isUserError {
            return machine.requestFailed(error)
        } catch {
            logger.error("pull failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.requestFailed(ClusterSyncError(.internal, "the server could not read changes; pull again"))
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

    private func fetchForSubscription(_ pull: Pull, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            return machine.subscriptionPage(try await store.pull(for: identity, after: pull.cursor, limit: pull.limit ?? limits.maxChangesPerPage))
        } catch {
            logger.error("subscription pull failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.subscriptionFailed()
        }
    }
}
