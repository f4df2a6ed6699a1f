import ClusterSyncCore
import Testing

/// The credential expiry in `welcome`, the 30-day warning, and a session whose credential is
/// withdrawn while it is open.
@Suite struct CredentialExpiryTests {
    static let identity = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl", author: "rhyl")

    @Test func welcomeCarriesTheExpiryOnlyWhenThereIsOne() throws {
        var welcome = Welcome(identity: Self.identity, limits: .default, server: "s")
        #expect(!WireCodec.encode(.welcome(welcome)).contains("credentialExpiresAt"), "old transcripts stay as they were")
        welcome.credentialExpiresAt = 1_800_000_000_000
        let line = WireCodec.encode(.welcome(welcome))
        #expect(line.contains(#""credentialExpiresAt":1800000000000"#))
        #expect(try WireCodec.decode(line.dropLast()) == .welcome(welcome))
    }

    @Test func statusWarnsFromThirtyDaysBefore() {
        let day: Int64 = 86_400_000, now: Int64 = 1_800_000_000_000
        #expect(CredentialExpiryWarning.warning(expiresAt: nil, now: now) == nil)
        #expect(CredentialExpiryWarning.warning(expiresAt: now + 31 * day, now: now) == nil)
        #expect(CredentialExpiryWarning.warning(expiresAt: now + 30 * day, now: now)?.contains("30 days") == true)
        #expect(CredentialExpiryWarning.warning(expiresAt: now + day / 2, now: now)?.contains("1 day:") == true)
        #expect(CredentialExpiryWarning.warning(expiresAt: now - 1, now: now)?.contains("has expired") == true)
    }

    @Test func aWithdrawnCredentialClosesTheSessionWithUnauthenticated() {
        var machine = ServerSessionStateMachine(limits: .default, certificateIdentity: false)
        _ = machine.lineReceived(String(WireCodec.encode(.hello(Hello(replica: ReplicaID("00000000000000aa")!, token: "t"))).dropLast()))
        guard case .send(.welcome(let welcome)) = machine.authenticated(Self.identity, server: "s", credentialExpiresAt: 42) else {
            Issue.record("no welcome"); return
        }
        #expect(welcome.credentialExpiresAt == 42)
        guard case .close(let error?) = machine.credentialWithdrawn("this token abc has been revoked") else {
            Issue.record("not closed"); return
        }
        #expect(error.code == "unauthenticated" && error.fatal && error.message.contains("revoked"))
        #expect(machine.isClosed)
    }
}
