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
        #expect(AuthorStamp.author(of: change(by: other, author: String(repeating: "a", count: 65)), pushedBy: identity, fromReplica: own)
            == "replica 00000000000000bb via rhyl (laptop)")
    }
}
