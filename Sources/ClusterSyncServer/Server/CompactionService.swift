import ClusterSyncCore
import Foundation
import Logging
import ServiceLifecycle

/// Compacts every tenant's log once an hour (PROTOCOL.md §7.2): each run notes where each
/// tenant's stream ends now (how a horizon in days becomes a position) and, when a horizon is
/// set, drops the superseded changes accepted more than `horizonDays` ago. `clustersyncd
/// compact` runs the same `compactAll` once.
public struct CompactionService: Service {
    let store: any ServerStore
    let horizonDays: Int
    let interval: Duration
    let logger: Logger
    let wallClock: @Sendable () -> Int64

    public init(store: any ServerStore, horizonDays: Int, interval: Duration = .seconds(3600), logger: Logger,
                wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.store = store
        self.horizonDays = horizonDays
        self.interval = interval
        self.logger = logger
        self.wallClock = wallClock
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for outcome in try await Self.compactAll(store, horizonDays: horizonDays, now: wallClock()) where outcome.compacted > 0 {
                    logger.notice("compacted", metadata: [
                        "clustersyncd.tenant": "\(outcome.tenant)", "clustersyncd.through": "\(outcome.throughSeq)",
                        "clustersyncd.changes": "\(outcome.compacted)",
                    ])
                }
            } catch is CancellationError {
                // The server is stopping (or never started): not a failure of compaction.
                return
            } catch {
                logger.error("compaction failed; it runs again in an hour", metadata: ["clustersyncd.error": "\(error)"])
            }
            // Shutting down ends the wait at once.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One run over every tenant (or one). With `horizonDays` 0 nothing is compacted, but the
    /// stream's end is still noted, so a horizon set later has positions to go by; `compact
    /// --horizon-days 0` asks for everything up to now with `compactNow`.
    public static func compactAll(_ store: any ServerStore, tenant: String? = nil, horizonDays: Int, now: Int64,
                                  compactNow: Bool = false) async throws -> [CompactionOutcome] {
        let cutoff = compactNow ? now : horizonDays > 0 ? now - Int64(horizonDays) * 86_400_000 : Int64.min
        var outcomes: [CompactionOutcome] = []
        let names: [String]
        if let tenant { names = [tenant] } else { names = try await store.tenants() }
        for name in names {
            outcomes.append(try await store.compact(tenant: name, olderThan: cutoff, now: now))
        }
        return outcomes
    }
}
