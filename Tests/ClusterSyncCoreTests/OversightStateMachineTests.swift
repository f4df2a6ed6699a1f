import ClusterSyncCore
import NIOCore
import Testing

/// The read-only session's side of both state machines, event in, action out (PROTOCOL.md §7.1).
@Suite struct OversightStateMachineTests {
    static let pcpg = SessionIdentity.oversight(tenant: "ctmuhb", role: .pcpg, region: "cwm-taf", author: "pcpg-cwm-taf (PCPG analyst)")
    static let oversight = OversightPage(rollup: .object(["tenant": .string("ctmuhb")]),
                                         escalated: [EscalatedRecord(cluster: "rhondda", record: RecordID("RSK-7K3M9Q2X1A")!)])

    static func line(_ message: WireMessage) -> String { String(WireCodec.encode(message).dropLast()) }

    /// A subscription page that carries no changes goes out when the roll-up or the escalated
    /// list moved since the session last got them (by its pull or the subscription), not otherwise.
    @Test func aSubscriptionSendsOversightOnlyWhenItChanged() {
        var machine = ServerSessionStateMachine(limits: .default, certificateIdentity: false)
        _ = machine.lineReceived(Self.line(.hello(Hello(replica: ReplicaID("7e2a4c6e8a0b1d3f")!, token: "t"))))
        _ = machine.authenticated(Self.pcpg, server: "s")
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil)))) == .fetch(Pull(cursor: nil, limit: WireLimits.default.maxChangesPerPage)))
        let pulled = ChangesPage(changes: [], cursor: Cursor("s1:3"), more: false, oversight: Self.oversight)
        #expect(machine.fetched(pulled) == .send(.changes(pulled)))
        _ = machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: Cursor("s1:3")))))
        _ = machine.streamEnd(Cursor("s1:3"))
        _ = machine.catchUp()
        #expect(machine.subscriptionPage(pulled) == .none, "the same roll-up and list: nothing to send")
        var withdrawn = pulled
        withdrawn.cursor = Cursor("s1:4")
        withdrawn.oversight?.escalated = []
        #expect(machine.streamGrew() == .fetchForSubscription(Pull(cursor: Cursor("s1:3"), limit: WireLimits.default.maxChangesPerPage)))
        #expect(machine.subscriptionPage(withdrawn) == .send(.changes(withdrawn)), "the withdrawal goes out")
        var again = withdrawn
        again.cursor = Cursor("s1:5")
        _ = machine.streamGrew()
        #expect(machine.subscriptionPage(again) == .none)
    }

    static func configuration(role: CredentialRole, region: String?) -> ClientSyncStateMachine.Configuration {
        var c = ClientSyncStateMachine.Configuration(mode: .once, replica: ReplicaID("7e2a4c6e8a0b1d3f")!, tenant: "ctmuhb", cluster: "",
                                                     practice: "", credential: "the token in pcpg.token", server: "sync.test:7443")
        c.role = role
        c.region = region
        return c
    }

    /// A PCPG replica syncs with its own role's credential only: the welcome must name the same
    /// role, tenant and region, else it stops before reading anything.
    @Test func aReadOnlyReplicaNeedsItsOwnRolesCredential() throws {
        var m = ClientSyncStateMachine(Self.configuration(role: .pcpg, region: "cwm-taf"), cursor: nil, pending: 0)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let welcomed = m.handle(.received(.welcome(Welcome(identity: Self.pcpg, limits: .default, server: "s"))), now: 1)
        #expect(welcomed.contains { if case .readOutbox = $0 { true } else { false } }, "\(welcomed)")

        let others: [SessionIdentity] = [
            .oversight(tenant: "ctmuhb", role: .pcpg, region: "gwent", author: "pcpg-gwent"),
            .oversight(tenant: "abuhb", role: .pcpg, region: "cwm-taf", author: "pcpg-cwm-taf"),
            .oversight(tenant: "ctmuhb", role: .healthBoard, region: nil, author: "health-board"),
            SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010"),
        ]
        for other in others {
            var refused = ClientSyncStateMachine(Self.configuration(role: .pcpg, region: "cwm-taf"), cursor: nil, pending: 0)
            _ = refused.start(now: 0)
            _ = refused.handle(.connected, now: 0)
            let actions = refused.handle(.received(.welcome(Welcome(identity: other, limits: .default, server: "s"))), now: 1)
            #expect(Array(actions.prefix(2)) == [.send(.bye), .close], "\(other)")
            #expect(!actions.contains { if case .readOutbox = $0 { true } else { false } })
        }
    }
}
