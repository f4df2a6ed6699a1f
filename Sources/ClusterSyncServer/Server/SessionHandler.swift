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
    static let serverName = "clustersyncd/1"

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
        var machine = ServerSessionStateMachine(limits: limits, certificateIdentity: certificate != nil)
        var session = SessionState()
        for await event in events {
            var action: ServerSessionStateMachine.Action
            switch event {
            case .line(let line): action = machine.lineReceived(line)
            case .lineTooLong: action = machine.lineTooLong()
            case .inboundClosed: return
            case .shutdown: action = machine.shutdown()
            case .published:
                await publish(&machine, &session, outbound)
                continue
            }
            while true {
                switch action {
                case .none:
                    break
                case .send(let message):
                    await send(message, outbound)
                case .close(let error):
                    if let error { await send(.error(error), outbound) }
                    return
                case .authenticate(let hello):
                    session.replica = hello.replica
                    action = await authenticate(hello, certificate, &machine)
                    continue
                case .store(let push):
                    action = await store(push, from: session.replica, &machine)
                    continue
                case .fetch(let pull):
                    action = await fetch(pull, &machine)
                    continue
                case .subscribe(let subscribe):
                    guard let identity = machine.identity else { return }
                    do {
                        if let cursor = subscribe.cursor {
                            session.cursor = cursor
                        } else {
                            session.cursor = try await store.currentCursor(tenant: identity.tenant)
                        }
                        action = machine.subscribed(at: session.cursor!)
                        let wakeups = await notifier.subscribe(tenant: identity.tenant)
                        session.subscription = wakeups.id
                        tasks.addTask {
                            for await _ in wakeups.stream { sink.yield(.published) }
                        }
                        // The backlog after the cursor goes out right away.
                        sink.yield(.published)
                    } catch {
                        action = machine.requestFailed(error as? ClusterSyncError ?? ClusterSyncError(.internal, "cannot subscribe now"))
                    }
                    continue
                }
                break
            }
        }
        if let id = session.subscription, let tenant = machine.identity?.tenant {
            await notifier.unsubscribe(tenant: tenant, id: id)
        }
    }

    struct SessionState {
        var replica: ReplicaID?
        var cursor: Cursor?
        var subscription: Int?
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
                    return machine.authenticationFailed("the token is not valid (unknown, revoked or mistyped)")
                }
                identity = known
            }
            logger.info("session", metadata: [
                "clustersyncd.practice": "\(identity.tenant)/\(identity.cluster)/\(identity.practice)",
                "clustersyncd.replica": "\(hello.replica)",
                "clustersyncd.credential": "\(certificate == nil ? "token" : "certificate")",
            ])
            Self.sessions.increment()
            return machine.authenticated(identity, server: Self.serverName)
        } catch {
            logger.error("authentication failed", metadata: ["clustersyncd.error": "\(error)"])
            return machine.authenticationFailed("the server could not check the credential; try again")
        }
    }

    private func store(_ push: Push, from replica: ReplicaID?, _ machine: inout ServerSessionStateMachine) async -> ServerSessionStateMachine.Action {
        guard let identity = machine.identity else { return .none }
        do {
            try PushValidation.validate(push, for: identity, nowMillis: Int64(Date().timeIntervalSince1970 * 1000), limits: limits)
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

    /// Sends a subscribed session what is new after its cursor, leaving out its own changes.
    private func publish(_ machine: inout ServerSessionStateMachine, _ session: inout SessionState,
                         _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        guard machine.isSubscribed, let identity = machine.identity, let cursor = session.cursor else { return }
        do {
            var more = true
            var after = cursor
            while more {
                var page = try await store.pull(for: identity, after: after, limit: limits.maxChangesPerPage)
                more = page.more
                after = page.cursor
                page.changes.removeAll { $0.id.replica == session.replica }
                if !page.changes.isEmpty || !more, case .send(let message) = machine.published(page), !page.changes.isEmpty {
                    await send(message, outbound)
                }
            }
            session.cursor = after
        } catch {
            logger.error("subscription pull failed", metadata: ["clustersyncd.error": "\(error)"])
        }
    }
}
