import ClusterSyncCore
import ClusterSyncServerTesting
import Foundation
import NIOCore

@testable import ClusterSyncServer

/// Pushes through the production `SessionHandler` (`TestSession`: its pipeline on an
/// `NIOAsyncTestingChannel`, no sockets) over a SQLite store, in a session welcomed with the
/// transcripts' token registered for `practice`: what a client is answered to each push line.
/// The vector tests use it, so the rule they check is the server's own path (hello, decoding,
/// the makers' keys read from the store, `SignatureChecks`, the store's push and the answer),
/// not a copy of it.
struct HandlerPush {
    let store: SQLiteServerStore
    let nowMillis: Int64
    let replica: ReplicaID
    private var session: TestSession?
    /// The error of the last answer, if it was one.
    private(set) var lastError: WireError?

    /// A new store file in `directory` with `practice`'s tenant, cluster and practice (and
    /// `others` of its cluster), the token registered for `practice` with `label`.
    static func store(in directory: URL, practice: PracticePath, label: String?, others: [String] = []) async throws -> SQLiteServerStore {
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("server-\(UUID().uuidString).sqlite").path)
        try await store.addTenant(practice.tenant)
        try await store.addCluster(practice.cluster, tenant: practice.tenant)
        for name in [practice.practice] + others {
            try await store.addPractice(name, cluster: practice.cluster, tenant: practice.tenant)
        }
        try await store.register(token: TestSession.token, practice: practice, label: label)
        return store
    }

    init(store: SQLiteServerStore, nowMillis: Int64, replica: ReplicaID) {
        self.store = store
        self.nowMillis = nowMillis
        self.replica = replica
    }

    /// The answer to `line` (a push): the error's code, or `accepted:N` (with ` duplicates:M`).
    /// A fatal error ends the session; the next push opens another.
    mutating func answer(_ line: String) async throws -> String {
        let session: TestSession
        if let open = self.session { session = open } else { session = try await open() }
        self.session = session
        try await session.send(line: line)
        guard let answer = try await session.nextLine() else {
            self.session = nil
            return "no answer"
        }
        lastError = nil
        switch try WireCodec.decode(answer) {
        case .error(let error):
            lastError = error
            if error.fatal { self.session = nil }
            return error.code
        case .ack(let ack):
            return "accepted:\(ack.accepted)" + (ack.duplicates > 0 ? " duplicates:\(ack.duplicates)" : "")
        case let other:
            return "\(other)"
        }
    }

    private func open() async throws -> TestSession {
        let session = try await TestSession.start(WireVectors.Connection(certificate: nil, nowMillis: nowMillis, limits: .default), store: store)
        try await session.send(line: String(WireCodec.encode(.hello(Hello(replica: replica, token: TestSession.token))).dropLast()))
        guard let welcome = try await session.nextLine(), case .welcome = try WireCodec.decode(welcome) else {
            throw ClusterSyncError(.internal, "the test session was not welcomed")
        }
        return session
    }
}
