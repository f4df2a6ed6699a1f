import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// `Protocol/vectors/authors/` through the server's store: token labels keep the name rule, and
/// the author stored on an own or a relayed change is what `relayed.jsonl` says, read back by a
/// pull.
@Suite struct AuthorNameServerTests {
    struct Name: Decodable, Sendable { var name: String; var sanitised: String?; var problem: String? }
    struct Relayed: Decodable, Sendable { var author: String?; var own: Bool; var stored: String }

    static func load<T: Decodable>(_ file: String, as: T.Type) -> [T] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Protocol/vectors/authors/\(file)")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { try! JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    static func store() async throws -> (SQLiteServerStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-authors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("server.sqlite").path)
        try await store.addTenant("bcuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        return (store, directory)
    }

    @Test func tokenLabelsKeepTheNameRule() async throws {
        let vectors = Self.load("names.jsonl", as: Name.self)
        #expect(vectors.count >= 30)
        let (store, directory) = try await Self.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        for vector in vectors {
            if vector.problem == nil {
                let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: vector.name)
                let identity = try #require(try await store.authenticate(token: token))
                #expect(identity.author == "rhyl (\(vector.sanitised!))", "\(vector.name.debugDescription)")
            } else {
                let error = await #expect(throws: ClusterSyncError.self, "\(vector.name.debugDescription)") {
                    try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: vector.name)
                }
                #expect(error?.field == "label")
            }
        }
    }

    @Test func storedAuthorsFollowTheVectors() async throws {
        let vectors = Self.load("relayed.jsonl", as: Relayed.self)
        #expect(vectors.count >= 10)
        let (store, directory) = try await Self.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "laptop")
        let identity = try #require(try await store.authenticate(token: token))
        #expect(identity.author == "rhyl (laptop)")
        let own = ReplicaID("00000000000000aa")!, other = ReplicaID("00000000000000bb")!
        var counters: [ReplicaID: Int64] = [:]
        var expected: [ChangeID: String] = [:]
        for vector in vectors {
            let replica = vector.own ? own : other
            counters[replica, default: 0] += 1
            let change = Change(
                id: ChangeID(replica: replica, counter: counters[replica]!), hlc: HLCTimestamp(millis: 1_763_900_000_000),
                record: RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "north"),
                field: "title", value: .string("Locum cover"), author: vector.author)
            #expect(try await store.push([change], as: identity, from: own).accepted == 1)
            expected[change.id] = vector.stored
        }
        let page = try await store.pull(for: identity, after: nil, limit: 1000)
        #expect(page.changes.count == vectors.count)
        for change in page.changes {
            #expect(change.author == expected[change.id], "\(change.id)")
        }
    }
}
