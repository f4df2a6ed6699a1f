import ClusterSyncClient
import ClusterSyncCore
import Foundation
import ServiceLifecycle
import Synchronization

/// `clustersync app --sync`: the same watch as `clustersync sync --watch` (the library's
/// `SyncClient`), run as a service beside the web server, with what it is doing kept for the
/// sync panel. A refusal that retrying cannot cure (a revoked credential, say) stops the watch,
/// not the app: the panel says why, and the registers stay usable offline.
final class AppSyncWatch: Service, Sendable {
    enum Activity: Sendable, Equatable {
        case starting
        case watching(author: String)
        case reconnecting(reason: String, retryMillis: Int64)
        case stopped(reason: String)
    }

    struct State: Sendable, Equatable {
        var activity: Activity = .starting
        /// Changes from other practices applied since the app started, and when the last came.
        var applied = 0
        var lastAppliedMillis: Int64?
    }

    let client: SyncClient
    private let state = Mutex(State())

    init(client: SyncClient) {
        self.client = client
    }

    var current: State { state.withLock { $0 } }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.client.watch(onApplied: { applied in
                    self.state.withLock {
                        $0.applied += applied
                        $0.lastAppliedMillis = Replica.systemMillis()
                    }
                }, onNotice: { notice in
                    self.state.withLock {
                        switch notice {
                        case .watching(let author): $0.activity = .watching(author: author)
                        case .reconnecting(let reason, let millis): $0.activity = .reconnecting(reason: reason, retryMillis: millis)
                        }
                    }
                })
            }
        } catch is CancellationError {
            return
        } catch {
            let reason = (error as? ClusterSyncError)?.message ?? "\(error)"
            state.withLock { $0.activity = .stopped(reason: reason) }
            // The web server runs on: this service ends only when the app does.
            try? await gracefulShutdown()
        }
    }
}
