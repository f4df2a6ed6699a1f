import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import Logging
import PostgresNIO
import Testing

/// The server stores a store test runs against: the SQLite file, the in-memory test store, and
/// PostgreSQL (a fresh database per test on the server `CLUSTERSYNC_TEST_POSTGRES_URL` names;
/// `eval "$(Tests/postgres-up)"` starts a throwaway one, and Tests/run and .ci/run do).
///
/// Without the variable the PostgreSQL runs are left out locally, with the reason printed once;
/// under CI (`CI` set) they stay in and fail, so CI never passes without them.
enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, memory, postgres

    var description: String { rawValue }

    /// The backends to run: all of them, or all but PostgreSQL locally when it is not there.
    static let available: [StoreBackend] = {
        if TestPostgres.url != nil || TestPostgres.isCI { return allCases }
        print("⚠️  skipping the PostgreSQL runs of the store tests: CLUSTERSYNC_TEST_POSTGRES_URL is not set "
              + "(run `eval \"$(Tests/postgres-up)\"` first, or Tests/run, which does)")
        return [.sqlite, .memory]
    }()

    /// The persistent stores only (tests of what a store keeps, which the in-memory one does not model).
    static let persistent: [StoreBackend] = available.filter { $0 != .memory }

    /// A new, empty store of this kind; `wallClock` dates credentials and roll-ups.
    func make(wallClock: (@Sendable () -> Int64)? = nil) async throws -> any ServerStore {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-store-\(UUID().uuidString).sqlite").path
            return if let wallClock { try SQLiteServerStore(path: path, wallClock: wallClock) } else { try SQLiteServerStore(path: path) }
        case .memory:
            let store = InMemoryServerStore()
            if let wallClock { await store.setWallClock(wallClock) }
            return store
        case .postgres:
            return try await TestPostgres.freshStore(wallClock: wallClock)
        }
    }
}

/// The test PostgreSQL server: one new database per store, made through a shared admin pool.
enum TestPostgres {
    static let url = ProcessInfo.processInfo.environment["CLUSTERSYNC_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = ["1", "true", "yes"].contains((ProcessInfo.processInfo.environment["CI"] ?? "").lowercased())

    static func location() throws -> PostgresLocation {
        guard let url else {
            throw ClusterSyncError(.invalidValue,
                "CLUSTERSYNC_TEST_POSTGRES_URL is not set, and CI runs must test PostgreSQL: run the tests through Tests/run (or eval \"$(Tests/postgres-up)\")")
        }
        return try PostgresLocation(url: url)
    }

    /// The pool that creates the test databases, on the server's maintenance database.
    static let admin: PostgresServerStore? = {
        guard let location = try? location() else { return nil }
        let store = try? PostgresServerStore(location: location, maximumConnections: 2, logger: Logger(label: "test-postgres-admin"))
        store?.runInBackground()
        return store
    }()

    /// A new empty database; its name is returned.
    static func freshDatabase() async throws -> PostgresLocation {
        let location = try location()
        let name = "cs_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        guard let admin else { throw ClusterSyncError(.internal, "cannot reach the test PostgreSQL at \(location)") }
        // A name made here of hex digits: safe to write into the statement.
        try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return location.database(name)
    }

    /// A store on a new database, migrated, its pool running for the rest of the test process.
    static func freshStore(wallClock: (@Sendable () -> Int64)? = nil) async throws -> PostgresServerStore {
        let location = try await freshDatabase()
        let logger = Logger(label: "test-postgres")
        let store = if let wallClock {
            try PostgresServerStore(location: location, maximumConnections: 4, logger: logger, wallClock: wallClock)
        } else {
            try PostgresServerStore(location: location, maximumConnections: 4, logger: logger)
        }
        store.runInBackground()
        try await store.migrate()
        return store
    }
}
