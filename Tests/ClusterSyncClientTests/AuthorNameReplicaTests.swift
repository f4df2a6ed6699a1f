import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// `Protocol/vectors/authors/names.jsonl` through `Replica.initialise` (what `init --name` calls):
/// a name with a problem is refused and leaves the file uninitialised; a good one is stored as
/// the rule tidies it, and signs local edits so.
@Suite struct AuthorNameReplicaTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var sanitised: String?
        var problem: String?
        var testDescription: String { name.debugDescription }
    }

    static let vectors: [Vector] = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Protocol/vectors/authors/names.jsonl")
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { try! JSONDecoder().decode(Vector.self, from: Data($0.utf8)) }
    }()

    @Test func theVectorsAreThere() { #expect(Self.vectors.count >= 30) }

    @Test(arguments: vectors)
    func initKeepsTheNameRule(_ vector: Vector) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try Replica(path: dir.path("r.sqlite"))
        if vector.problem == nil {
            let identity = try replica.initialise(tenant: "bcuhb", cluster: "north", practice: "rhyl", displayName: vector.name)
            #expect(identity.displayName == vector.sanitised)
            #expect(try replica.identity().displayName == vector.sanitised)
        } else {
            let error = #expect(throws: ClusterSyncError.self) {
                try replica.initialise(tenant: "bcuhb", cluster: "north", practice: "rhyl", displayName: vector.name)
            }
            #expect(error?.code == .invalidValue)
            #expect(error?.field == "name")
            #expect(throws: ClusterSyncError.self) { try replica.identity() }
        }
    }
}
