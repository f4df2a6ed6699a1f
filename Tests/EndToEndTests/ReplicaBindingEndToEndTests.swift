import ClusterSyncCore
import Foundation
import Testing

/// Replica binding through the real server: a practice that claims another practice's replica
/// id cannot sign as it, so its change is refused with `bad-signature` naming the change, and
/// the genuine change with that id is then stored, not dropped as a duplicate
/// (Protocol/PROTOCOL.md §6 and §6.2).
@Suite(.serialized, .teardown) struct ReplicaBindingEndToEndTests {
    let wire: BadInputTests

    init() throws {
        wire = try BadInputTests()
    }

    @Test func anotherPracticeClaimingAReplicaIsRefusedAndTheGenuineChangeIsStored() async throws {
        let server = try await wire.base.makeServer()
        Teardown.add { await server.stop() }
        let rhylToken = try await wire.token(for: "rhyl"), prestatynToken = try await wire.token(for: "prestatyn")
        let rhyl = BadInputTests.replica, prestatyn = ReplicaID("00000000000000bb")!
        func hello(_ replica: ReplicaID, _ token: String) -> String { wire.hello(replica, token: token) }
        func push(_ batch: String, _ changes: [Change]) -> String { wire.line(.push(Push(batch: batch, changes: changes))) }

        // Rhyl pushes as its replica, which binds the replica id to Rhyl.
        let first = try await wire.session([hello(rhyl, rhylToken), push("r1", [wire.change(1)]), wire.line(.bye)], port: server.port)
        #expect(wire.codes(first) == ["welcome", "ack"], "\(first)")

        // Prestatyn claims Rhyl's replica for the id Rhyl uses next, signing with its own key.
        let forgery = wire.change(2, value: .string("Forged"), signer: BadInputTests.key(of: prestatyn))
        let forged = try await wire.session([hello(prestatyn, prestatynToken), push("p1", [forgery]), wire.line(.bye)], port: server.port)
        #expect(wire.codes(forged) == ["welcome", "error:bad-signature"], "\(forged)")
        #expect(forged.last?["change"] == .string("2@00000000000000aa") && forged.last?["batch"] == .string("p1"))
        #expect(forged.last?["fatal"] == .bool(false))

        // Rhyl's genuine change 2 is stored.
        let genuine = try await wire.session([hello(rhyl, rhylToken), push("r2", [wire.change(2)]), wire.line(.bye)], port: server.port)
        #expect(wire.codes(genuine) == ["welcome", "ack"])
        #expect(genuine.last?["accepted"] == .int(1) && genuine.last?["duplicates"] == .int(0), "\(genuine)")

        // Prestatyn passing on Rhyl's change exactly as stored is a duplicate, not an error.
        let relay = try await wire.session([hello(prestatyn, prestatynToken), push("p2", [wire.change(2)]), wire.line(.bye)], port: server.port)
        #expect(wire.codes(relay) == ["welcome", "ack"])
        #expect(relay.last?["accepted"] == .int(0) && relay.last?["duplicates"] == .int(1), "\(relay)")
    }
}
