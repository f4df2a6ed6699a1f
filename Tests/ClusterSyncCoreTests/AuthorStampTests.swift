import ClusterSyncCore
import Testing

@Suite struct AuthorStampTests {
    let identity = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", author: "rhyl (laptop)")
    let own = ReplicaID("00000000000000aa")!
    let other = ReplicaID("00000000000000bb")!

    func change(by replica: ReplicaID, author: String?) -> Change {
        Change(id: ChangeID(replica: replica, counter: 1), hlc: HLCTimestamp(millis: 1), record: RecordID("RSK-0000000001")!,
               scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"), field: "title", value: .string("x"), author: author)
    }

    @Test func ownChangesGetTheAuthenticatedAuthor() {
        #expect(AuthorStamp.author(of: change(by: own, author: "Dr Claims"), pushedBy: identity, fromReplica: own) == "rhyl (laptop)")
        #expect(AuthorStamp.author(of: change(by: other, author: "Dr Claims"), pushedBy: identity, fromReplica: nil) == "rhyl (laptop)")
    }

    @Test func relayedChangesAreMarkedWithTheRelayer() {
        #expect(AuthorStamp.author(of: change(by: other, author: "Practice manager, Prestatyn"), pushedBy: identity, fromReplica: own)
            == "Practice manager, Prestatyn via rhyl (laptop)")
        #expect(AuthorStamp.author(of: change(by: other, author: nil), pushedBy: identity, fromReplica: own)
            == "replica 00000000000000bb via rhyl (laptop)")
        #expect(AuthorStamp.author(of: change(by: other, author: "NHS 943 476 5919"), pushedBy: identity, fromReplica: own)
            == "replica 00000000000000bb via rhyl (laptop)")
        // Too long: cut to the bound (AuthorName.maxScalars), not replaced.
        #expect(AuthorStamp.author(of: change(by: other, author: String(repeating: "a", count: 65)), pushedBy: identity, fromReplica: own)
            == String(repeating: "a", count: 64) + " via rhyl (laptop)")
    }

    /// `Protocol/vectors/authors/relayed.jsonl`, pushed by replica 00000000000000aa of a session
    /// whose author is "rhyl (laptop)"; a relayed change is from replica 00000000000000bb.
    @Test(arguments: AuthorVectors.relayed)
    func storedAuthorsFollowTheVectors(_ vector: AuthorVectors.Relayed) {
        let made = change(by: vector.own ? own : other, author: vector.author)
        #expect(AuthorStamp.author(of: made, pushedBy: identity, fromReplica: own) == vector.stored)
        #expect(AuthorStamp.author(of: made, stampedAs: "rhyl (laptop)", fromReplica: own) == vector.stored)
    }

    /// However the relayed change's author is made, the stored author reads as one maker and
    /// the authenticated relayer: one " via ", and the relayer after it.
    @Test func noChainCanBeForged() {
        let attempts = AuthorVectors.names.map(\.name) + [
            "A via B", "A via B via C", "via", "A VIA B", "A\u{00A0}via\u{00A0}B", "A v\u{0456}\u{0430} B", "A\u{2066} via \u{2069}B",
        ]
        for attempt in attempts {
            let stored = AuthorStamp.author(of: change(by: other, author: attempt), pushedBy: identity, fromReplica: own)
            let parts = stored.split(separator: " ").split(whereSeparator: { AuthorName.problem(in: $0) == .relayWord })
            #expect(parts.count == 2, "\(attempt.debugDescription) is stored as \(stored.debugDescription)")
            #expect(stored.hasSuffix(" via rhyl (laptop)"))
        }
    }
}

