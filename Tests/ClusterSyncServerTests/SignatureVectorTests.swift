import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// `Protocol/vectors/signatures/changes.jsonl` (a good, a forged and a relayed signed change,
/// with the fixed keys of `keys.jsonl`) through both ends of the one rule, `ChangeSignature`:
/// the server's push path (the maker's key registered in a SQLite store, a push through the
/// production `SessionHandler`, `HandlerPush`, and the author the store sets) and a replica
/// merging the change from its maker's file.
@Suite struct SignatureVectorTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/signatures")

    struct Case {
        var name: String
        var key: ReplicaPublicKey
        var change: Change
        var valid: Bool
    }

    static func lines(_ name: String) throws -> [JSONValue] {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n").map { try JSONValue(parsing: $0) }
    }

    static func cases() throws -> [Case] {
        try lines("changes.jsonl").map { o in
            Case(name: try #require(o["name"]?.stringValue), key: try #require(ReplicaPublicKey(base64: o["key"]?.stringValue ?? "")),
                 change: try Change(jsonText: try #require(o["change"]).canonicalText), valid: o["valid"] == .bool(true))
        }
    }

    /// The fixed test keys (RFC 8032 §7.1), by public key.
    static func seeds() throws -> [ReplicaPublicKey: ReplicaSigningKey] {
        var seeds: [ReplicaPublicKey: ReplicaSigningKey] = [:]
        for o in try lines("keys.jsonl") {
            let hex = Array(try #require(o["secretKey"]?.stringValue).utf8)
            let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
            let key = try ReplicaSigningKey(rawRepresentation: bytes)
            #expect(key.publicKey.base64 == o["publicKey"]?.stringValue)
            seeds[key.publicKey] = key
        }
        return seeds
    }

    static let pusher = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010 (Siân Evans)")
    static let pusherReplica = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let makerPractice = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95011", author: "W95011 (Rhys Morgan)")

    @Test func theVectorsKeysAreTheRFCsAndOurSignaturesMatchTheirs() throws {
        let seeds = try Self.seeds()
        #expect(seeds.count == 2)
        // Ed25519 signatures are deterministic: signing the good vector's change again gives its bytes.
        for c in try Self.cases() where c.valid && c.change.sig != nil {
            guard let seed = seeds[c.key] else { continue }
            #expect(ChangeSignature.signed(c.change, with: seed).sig == c.change.sig, "\(c.name)")
        }
    }

    @Test func theServerPathAcceptsExactlyTheValidVectorsAndSetsTheMakersAuthor() async throws {
        for c in try Self.cases() {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-sig-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try await HandlerPush.store(in: directory, practice: PracticePath(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010"),
                                                    label: "Siân Evans", others: ["W95011"])
            let maker = c.change.id.replica
            let own = maker == Self.pusherReplica
            // The maker registered the vector's key: as the pushing session for its own changes,
            // as another practice's (W95011, Rhys Morgan) for a relayed one.
            _ = try await store.registerReplicaKey(c.key, replica: maker, session: own ? Self.pusher : Self.makerPractice, person: nil)
            // Pushed through the server's own session (`HandlerPush`), at the change's time.
            var server = HandlerPush(store: store, nowMillis: c.change.hlc.millis, replica: Self.pusherReplica)
            let answer = try await server.answer(WireCodec.encode(.push(Push(batch: "v", changes: [c.change]))).trimmingCharacters(in: .newlines))
            guard answer == "accepted:1" else {
                #expect(!c.valid, "\(c.name): \(answer) \(server.lastError?.message ?? "")")
                #expect(answer == "bad-signature" && server.lastError?.change == c.change.id, "\(c.name): \(answer)")
                continue
            }
            #expect(c.valid, "\(c.name): accepted")
            let stored = try await store.pull(for: Self.pusher, after: nil, limit: 10).changes
            #expect(stored.map(\.author) == [own ? Self.pusher.author : Self.makerPractice.author], "\(c.name)")
            #expect(stored.map(\.sig) == [c.change.sig], "\(c.name): the signature is kept and served")
        }
    }

    @Test func aReplicaMergingFromTheMakersFileAcceptsExactlyTheValidVectors() throws {
        let seeds = try Self.seeds()
        for c in try Self.cases() {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-sig-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // The maker's file: the vector's replica id and key (a file whose key is the vector's).
            let (maker, _) = try Replica.create(path: directory.appendingPathComponent("maker.sqlite").path,
                                                tenant: "ctmuhb", cluster: "rhondda", practice: "W95011", displayName: "Rhys Morgan")
            let seed = try #require(seeds[c.key])
            try maker.database.write { db in
                // Numbered as if the maker had made the change: a change in a file's own name past
                // its counter is taken only signed with its key (`ChangeAdmission.OwnReplica`),
                // and the vectors' bad signatures are planted here as the maker's own.
                try db.execute(sql: "UPDATE identity SET replica_id = ?, counter = ?", arguments: [c.change.id.replica.rawValue, c.change.id.counter])
                try db.execute(sql: "UPDATE signing_key SET private_key = ?", arguments: [Data(seed.rawRepresentation)])
                try db.execute(sql: "UPDATE replica_key SET replica = ?, public_key = ?",
                               arguments: [c.change.id.replica.rawValue, Data(c.key.rawRepresentation)])
            }
            #expect(try maker.publicKey() == c.key)
            try maker.apply([c.change], origin: .peer)
            let (receiver, _) = try Replica.create(path: directory.appendingPathComponent("receiver.sqlite").path,
                                                   tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", displayName: "Siân Evans")
            do {
                let outcome = try receiver.merge(with: maker)
                if c.change.sig == nil {
                    // Unsigned (made before signing): kept, but it waits for its maker to push it.
                    #expect(try outcome.received.applied == 1 && receiver.waitingRelays().map(\.unsigned) == [true], "\(c.name)")
                    continue
                }
                #expect(c.valid && outcome.received.applied == 1, "\(c.name): merged")
            } catch let error as ClusterSyncError {
                #expect(!c.valid && error.code == .badSignature, "\(c.name): \(error.message)")
                #expect(try receiver.allChanges().isEmpty, "nothing of a refused merge is written")
            }
        }
    }
}
