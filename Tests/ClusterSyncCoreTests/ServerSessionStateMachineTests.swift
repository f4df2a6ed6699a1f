import ClusterSyncCore
import NIOCore
import Synchronization
import Testing

@Suite struct ServerSessionStateMachineTests {
    typealias Machine = ServerSessionStateMachine
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let identity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010 (Siân Evans)")
    static let limits = WireLimits.default
    static let now: Int64 = 1_795_426_200_000  // 2026-11-23T09:30:00Z

    // MARK: Helpers

    static func ready(_ limits: WireLimits = limits) -> Machine {
        var machine = Machine(limits: limits, certificateIdentity: false)
        _ = machine.lineReceived(line(.hello(Hello(replica: a, token: "t"))))
        _ = machine.authenticated(identity, server: "s")
        return machine
    }

    static func line(_ message: WireMessage) -> String { String(WireCodec.encode(message).dropLast()) }

    static func fatal(_ code: ClusterSyncError.Code, in action: Machine.Action) -> Bool {
        if case .close(let error?) = action { return error.code == code.rawValue && error.fatal }
        return false
    }

    static func nonFatal(_ code: ClusterSyncError.Code, in action: Machine.Action) -> Bool {
        if case .send(.error(let error)) = action { return error.code == code.rawValue && !error.fatal }
        return false
    }

    static func change(_ counter: Int64, millis: Int64 = now, field: String = "title", value: JSONValue? = .string("A title"),
                       practice: String? = nil, cluster: String = "rhondda") -> Change {
        Change(id: ChangeID(replica: a, counter: counter), hlc: HLCTimestamp(millis: millis), record: RecordID("RSK-7K3M9Q2X1A")!,
               scope: RecordScope(tenant: "ctmuhb", cluster: cluster, practice: practice), field: field, value: value)
    }

    // MARK: Before welcome

    @Test func helloWithATokenAsksToAuthenticateThenWelcomes() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(machine.identity == nil)
        let hello = Hello(replica: Self.a, token: "t", client: "c")
        #expect(machine.lineReceived(Self.line(.hello(hello))) == .authenticate(hello))
        #expect(machine.identity == nil)
        #expect(machine.authenticated(Self.identity, server: "srv") == .send(.welcome(Welcome(identity: Self.identity, limits: Self.limits, server: "srv"))))
        #expect(machine.identity == Self.identity)
    }

    @Test func aCertificateSessionSendsHelloWithoutAToken() {
        var machine = Machine(limits: Self.limits, certificateIdentity: true)
        let hello = Hello(replica: Self.a)
        #expect(machine.lineReceived(Self.line(.hello(hello))) == .authenticate(hello))

        var both = Machine(limits: Self.limits, certificateIdentity: true)
        #expect(Self.fatal(.unauthenticated, in: both.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))))
        var neither = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.fatal(.unauthenticated, in: neither.lineReceived(Self.line(.hello(hello)))))
        #expect(neither.isClosed)
    }

    @Test func authenticationFailureIsFatal() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        _ = machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(machine.authenticationFailed("no") == .close(WireError(code: "unauthenticated", message: "no", fatal: true)))
        #expect(machine.isClosed && machine.identity == nil)
        // A late answer of any kind is dropped.
        #expect(machine.authenticated(Self.identity, server: "s") == .none)
        #expect(machine.lineReceived(Self.line(.ping(Ping()))) == .none)
    }

    @Test func otherVersionsAreRefused() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        let action = machine.lineReceived(Self.line(.hello(Hello(version: 2, replica: Self.a, token: "t"))))
        #expect(Self.fatal(.versionUnsupported, in: action))
        #expect(machine.isClosed)
    }

    @Test(arguments: [
        WireMessage.push(Push(batch: "b", changes: [])), .pull(Pull(cursor: nil)), .subscribe(Subscribe(cursor: nil)), .ping(Ping()),
    ])
    func anythingButHelloFirstIsFatal(_ message: WireMessage) {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.fatal(.outOfOrder, in: machine.lineReceived(Self.line(message))))
        #expect(machine.isClosed)
    }

    @Test func undecodableLinesBeforeHelloAreAnsweredWithoutClosing() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.nonFatal(.malformed, in: machine.lineReceived("{hello}")))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(#"{"type":"helo"}"#)))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(Self.line(.pong(Ping())))))
        #expect(!machine.isClosed)
        #expect(machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t")))) == .authenticate(Hello(replica: Self.a, token: "t")))
    }

    /// Answered a few times, for a person typing at the port; then closed, so a TLS record
    /// packed with short lines buys the server no more work than a few.
    @Test func manyUndecodableLinesBeforeHelloCloseTheSession() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        for _ in 0..<Machine.maxUndecodableBeforeHello {
            #expect(Self.nonFatal(.malformed, in: machine.lineReceived("x")))
        }
        let last = machine.lineReceived(#"{"type":"helo"}"#)
        #expect(Self.fatal(.unknownMessage, in: last), "\(last)")
        #expect(machine.isClosed)
        #expect(machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t")))) == .none, "nothing after closing")
    }

    @Test func linesWhileAuthenticatingAreOutOfOrder() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        _ = machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(Self.fatal(.outOfOrder, in: machine.lineReceived(Self.line(.ping(Ping())))))
        #expect(machine.authenticated(Self.identity, server: "s") == .none, "no welcome after the session closed")

        var garbled = Machine(limits: Self.limits, certificateIdentity: false)
        _ = garbled.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(Self.fatal(.outOfOrder, in: garbled.lineReceived("{")))

        var leaving = Machine(limits: Self.limits, certificateIdentity: false)
        _ = leaving.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(leaving.lineReceived(Self.line(.bye)) == .close(nil))
    }

    @Test func byeBeforeHelloClosesQuietly() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(machine.lineReceived(Self.line(.bye)) == .close(nil))
        #expect(machine.isClosed)
    }

    // MARK: Ready

    @Test func helloTwiceIsFatal() {
        var machine = Self.ready()
        #expect(Self.fatal(.outOfOrder, in: machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))))
        #expect(machine.isClosed && machine.identity == nil)
    }

    @Test func undecodableLinesAreAnsweredAndTheSessionGoesOn() {
        var machine = Self.ready()
        let malformed = machine.lineReceived(#"{"type":"push","changes":[]}"#)
        #expect(malformed == .send(.error(WireError(code: "malformed", message: #""push.batch" is missing"#, fatal: false))))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(#"{"type":"sync"}"#)))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(Self.line(.ack(Ack(batch: "b", accepted: 0, duplicates: 0, author: "a"))))))
        #expect(machine.lineReceived(Self.line(.ping(Ping(nonce: "n")))) == .send(.pong(Ping(nonce: "n"))))
    }

    @Test func blankLinesAreIgnored() {
        var machine = Self.ready()
        #expect(machine.lineReceived("") == .none)
        #expect(machine.lineReceived(" \t\r") == .none)
        #expect(machine.lineReceived(ByteBuffer()) == .none)
        var fresh = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(fresh.lineReceived("  ") == .none)
        #expect(!fresh.isClosed)
    }

    @Test func aPushWithinTheLimitIsStoredAndALargerOneRefused() {
        var limits = Self.limits
        limits.maxChangesPerPush = 2
        var machine = Self.ready(limits)
        let fits = Push(batch: "b1", changes: [Self.change(1), Self.change(2)])
        #expect(machine.lineReceived(Self.line(.push(fits))) == .store(fits))
        #expect(machine.pushStored(Ack(batch: "b1", accepted: 2, duplicates: 0, author: "me"))
            == .send(.ack(Ack(batch: "b1", accepted: 2, duplicates: 0, author: "me"))))

        let tooMany = Push(batch: "b2", changes: [Self.change(1), Self.change(2), Self.change(3)])
        guard case .send(.error(let error)) = machine.lineReceived(Self.line(.push(tooMany))) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == "batch-too-large" && !error.fatal && error.batch == "b2" && error.change == nil)
        #expect(error.message.contains("at most 2"))
        #expect(!machine.isClosed)
    }

    /// The superseded ids of one push are bounded together (`Push.maxSupersedes`): each costs
    /// the writer every tenant shares, and a change alone may name 1,000.
    @Test func aPushSupersedingTooManyChangesTogetherIsRefused() {
        var machine = Self.ready()
        func superseding(_ n: Int64, _ count: Int) -> Change {
            var change = Self.change(n)
            change.supersedes = (0..<count).map { ChangeID(replica: ReplicaID(String(format: "%016x", $0 + 1))!, counter: 1) }
            return change
        }
        let fits = Push(batch: "b1", changes: (1...10).map { superseding($0, 1_000) })
        #expect(fits.supersedeCount == Push.maxSupersedes)
        #expect(machine.lineReceived(Self.line(.push(fits))) == .store(fits))
        let over = Push(batch: "b2", changes: fits.changes + [superseding(11, 1)])
        guard case .send(.error(let error)) = machine.lineReceived(Self.line(.push(over))) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == "batch-too-large" && !error.fatal && error.batch == "b2", "\(error)")
        #expect(error.message.contains("supersede 10001 changes together"), "\(error.message)")
    }

    /// A delete's `seen` ids count too: the server looks each up (`SupersessionReach`), so a push
    /// of made-up `seen` ids (4,096 a change) would otherwise hold the shared writer; the
    /// reference client splits its pushes by the same count.
    @Test func seenIdsCountTowardThePushBound() {
        var machine = Self.ready()
        var deleting = Self.change(1)
        deleting.seen = (0..<4_096).map { ChangeID(replica: ReplicaID(String(format: "%016x", $0 + 1))!, counter: 1) }
        let changes = (1...3).map { n -> Change in var c = deleting; c.id = ChangeID(replica: deleting.id.replica, counter: Int64(n)); return c }
        let over = Push(batch: "b3", changes: changes)
        #expect(over.supersedeCount == 3 * 4_096)
        guard case .send(.error(let error)) = machine.lineReceived(Self.line(.push(over))) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == "batch-too-large", "\(error)")
        #expect(Push.fitting(changes).count == 2)
    }

    @Test func aFailedPushIsAnsweredWithItsBatchAndChange() {
        var machine = Self.ready()
        let id = ChangeID(replica: Self.a, counter: 4)
        let action = machine.pushFailed(batch: "b1", error: ClusterSyncError(.clockSkew, "too far ahead"), change: id)
        #expect(action == .send(.error(WireError(code: "clock-skew", message: "too far ahead", fatal: false, batch: "b1", change: id))))
        #expect(!machine.isClosed)
    }

    @Test func pullLimitsAreFilledInAndClamped() {
        var limits = Self.limits
        limits.maxChangesPerPage = 100
        var machine = Self.ready(limits)
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil)))) == .fetch(Pull(cursor: nil, limit: 100)))
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: Cursor("s1:5"), limit: 5_000)))) == .findStreamEnd)
        #expect(machine.streamEnd(Cursor("s1:9")) == .fetch(Pull(cursor: Cursor("s1:5"), limit: 100)))
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil, limit: 7)))) == .fetch(Pull(cursor: nil, limit: 7)))
        let page = ChangesPage(changes: [Self.change(1)], cursor: Cursor("s1:1"), more: false)
        #expect(machine.fetched(page) == .send(.changes(page)))
        #expect(Self.nonFatal(.internal, in: machine.requestFailed(ClusterSyncError(.internal, "pull again"))))
    }

    // MARK: Cursors

    /// Cursors a server never issued: not its spelling (other prefix, sign, leading zero, too
    /// long, not a number).
    @Test(arguments: ["junk", "", "s1:", "s1:-1", "s1:+1", "s1:007", "s1:00", "s2:1", "S1:1", "s1:1 ", "s1:1x", "s1:9999999999999999999"])
    func cursorsNotSpelledAsIssuedAreMalformedForPullAndSubscribe(_ text: String) {
        var pulling = Self.ready()
        #expect(Self.nonFatal(.malformed, in: pulling.lineReceived(Self.line(.pull(Pull(cursor: Cursor(text)))))))
        var subscribing = Self.ready()
        #expect(Self.nonFatal(.malformed, in: subscribing.lineReceived(Self.line(.subscribe(Subscribe(cursor: Cursor(text)))))))
        #expect(!subscribing.isSubscribed && !subscribing.isClosed)
        // The session goes on, and may subscribe properly.
        #expect(subscribing.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil)))) == .findStreamEnd)
    }

    /// A cursor past the end of the tenant's stream (one from another tenant's longer stream, or
    /// made up) is refused the same way by pull and subscribe, and nothing is read or sent.
    @Test func cursorsPastTheEndOfTheStreamAreMalformedForPullAndSubscribe() {
        var pulling = Self.ready()
        #expect(pulling.lineReceived(Self.line(.pull(Pull(cursor: Cursor("s1:999"))))) == .findStreamEnd)
        let refused = pulling.streamEnd(Cursor("s1:3"))
        #expect(Self.nonFatal(.malformed, in: refused))
        if case .send(.error(let error)) = refused { #expect(error.message.contains("\"s1:999\" is not a cursor this server issued")) }
        #expect(pulling.lineReceived(Self.line(.pull(Pull(cursor: Cursor("s1:3"))))) == .findStreamEnd)
        #expect(pulling.streamEnd(Cursor("s1:3")) == .fetch(Pull(cursor: Cursor("s1:3"), limit: Self.limits.maxChangesPerPage)))

        var subscribing = Self.ready()
        #expect(subscribing.lineReceived(Self.line(.subscribe(Subscribe(cursor: Cursor("s1:4"))))) == .findStreamEnd)
        #expect(Self.nonFatal(.malformed, in: subscribing.streamEnd(Cursor("s1:3"))))
        #expect(!subscribing.isSubscribed)
        #expect(subscribing.catchUp() == .none, "a refused subscription reads nothing")
        #expect(subscribing.lineReceived(Self.line(.subscribe(Subscribe(cursor: Cursor("s1:3"))))) == .findStreamEnd)
        #expect(subscribing.streamEnd(Cursor("s1:3")) == .send(.subscribed(Subscribed(cursor: Cursor("s1:3")))))
    }

    @Test func aServerOnlyMessageIsUnknownEvenWhenIncomplete() {
        for line in [#"{"type":"ack"}"#, #"{"type":"welcome","version":1}"#, #"{"type":"changes"}"#, #"{"type":"error","fatal":true}"#] {
            var waiting = Machine(limits: Self.limits, certificateIdentity: false)
            #expect(Self.nonFatal(.unknownMessage, in: waiting.lineReceived(line)), "\(line) before hello")
            var ready = Self.ready()
            #expect(Self.nonFatal(.unknownMessage, in: ready.lineReceived(line)), "\(line) when ready")
            #expect(!ready.isClosed && !waiting.isClosed)
        }
    }

    // MARK: Subscriptions

    @Test func aSubscriptionStartsAtTheEndOfTheStreamAndCatchesUp() {
        var machine = Self.ready()
        #expect(machine.streamGrew() == .none, "not subscribed")
        #expect(machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil)))) == .findStreamEnd)
        #expect(machine.streamGrew() == .none, "not started yet")
        #expect(!machine.isSubscribed)
        #expect(machine.streamEnd(Cursor("s1:7")) == .send(.subscribed(Subscribed(cursor: Cursor("s1:7")))))
        #expect(machine.isSubscribed)
        // What arrived in between is fetched before anything else.
        #expect(machine.catchUp() == .fetchForSubscription(Pull(cursor: Cursor("s1:7"), limit: Self.limits.maxChangesPerPage)))
        #expect(machine.subscriptionPage(ChangesPage(changes: [], cursor: Cursor("s1:7"), more: false)) == .none)
        #expect(machine.catchUp() == .none)
        // Pushes and pings go on.
        let push = Push(batch: "b", changes: [Self.change(2)])
        #expect(machine.lineReceived(Self.line(.push(push))) == .store(push))
        #expect(machine.lineReceived(Self.line(.ping(Ping()))) == .send(.pong(Ping())))
    }

    /// Own changes are recognised by the hello's replica id (not by who pushed them), left out of
    /// the pages, and covered by the cursor; a page with `more` makes the machine fetch again.
    @Test func aSubscriptionSkipsItsOwnReplicasChangesAndFollowsMore() {
        var machine = Self.ready()
        _ = machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: Cursor("s1:0")))))
        _ = machine.streamEnd(Cursor("s1:0"))
        #expect(machine.catchUp() == .fetchForSubscription(Pull(cursor: Cursor("s1:0"), limit: Self.limits.maxChangesPerPage)))
        var other = Self.change(5)
        other.id = ChangeID(replica: ReplicaID("a3b4c5d6e7f80912")!, counter: 1)
        let mixed = ChangesPage(changes: [Self.change(1), other], cursor: Cursor("s1:2"), more: true)
        #expect(machine.subscriptionPage(mixed) == .send(.changes(ChangesPage(changes: [other], cursor: Cursor("s1:2"), more: true))))
        #expect(machine.isCatchingUp, "the handler owes the next page without waiting for a push")
        #expect(machine.catchUp() == .fetchForSubscription(Pull(cursor: Cursor("s1:2"), limit: Self.limits.maxChangesPerPage)))
        let ownOnly = ChangesPage(changes: [Self.change(2)], cursor: Cursor("s1:3"), more: false)
        #expect(machine.subscriptionPage(ownOnly) == .none, "nothing to send")
        #expect(!machine.isCatchingUp)
        #expect(machine.catchUp() == .none)
        #expect(machine.streamGrew() == .fetchForSubscription(Pull(cursor: Cursor("s1:3"), limit: Self.limits.maxChangesPerPage)),
                "the next page starts after the own change")
        // A failed read leaves the subscription where it was, to read again at the next push
        // or when the timer it arms fires (SubscriptionRetryTests).
        let failed = machine.subscriptionFailed()
        #expect({ if case .armTimer = failed { true } else { false } }(), "\(failed)")
        #expect(machine.streamGrew() == .fetchForSubscription(Pull(cursor: Cursor("s1:3"), limit: Self.limits.maxChangesPerPage)))
    }

    @Test func pullOrSubscribeOnASubscribedSessionIsFatal() {
        var pulling = Self.ready()
        _ = pulling.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))
        _ = pulling.streamEnd(Cursor("s1:0"))
        #expect(Self.fatal(.outOfOrder, in: pulling.lineReceived(Self.line(.pull(Pull(cursor: nil))))))

        var twice = Self.ready()
        _ = twice.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))
        #expect(Self.fatal(.outOfOrder, in: twice.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))))
    }

    @Test func aFailedSubscribeLeavesTheSessionUnsubscribed() {
        var machine = Self.ready()
        _ = machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))
        #expect(Self.nonFatal(.internal, in: machine.requestFailed(ClusterSyncError(.internal, "disk"))))
        #expect(!machine.isSubscribed)
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil)))) == .fetch(Pull(cursor: nil, limit: Self.limits.maxChangesPerPage)))
    }

    @Test func byeClosesWithoutAnError() {
        var machine = Self.ready()
        #expect(machine.lineReceived(Self.line(.bye)) == .close(nil))
        #expect(machine.isClosed)
        #expect(machine.lineReceived(Self.line(.ping(Ping()))) == .none)
    }

    // MARK: Ending

    @Test func aLineTooLongIsFatalAndNamesTheLimit() {
        var machine = Self.ready()
        guard case .close(let error?) = machine.lineTooLong() else {
            Issue.record("expected a fatal error")
            return
        }
        #expect(error.code == "line-too-long" && error.fatal)
        #expect(error.message.contains("4194304"))
        #expect(machine.lineTooLong() == .none)
    }

    /// The handler checks a push while the one before commits, so `bye` can come before a push
    /// is answered: the answer still goes out (its commit may have happened), once, and nothing
    /// else does.
    @Test func aPushHandedOverBeforeByeIsStillAnswered() {
        var machine = Self.ready()
        let push = Push(batch: "b1", changes: [ServerSessionStateMachineTests.change(1)])
        #expect(machine.lineReceived(Self.line(.push(push))) == .store(push))
        #expect(machine.lineReceived(Self.line(.bye)) == .close(nil))
        let ack = Ack(batch: "b1", accepted: 1, duplicates: 0, author: "me")
        #expect(machine.pushStored(ack) == .send(.ack(ack)))
        #expect(machine.pushStored(ack) == .none, "one answer per push")
        #expect(machine.fetched(ChangesPage(changes: [], cursor: Cursor("s1:0"), more: false)) == .none)
    }

    @Test func shutdownIsFatalOnceInEveryState() {
        var fresh = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.fatal(.shuttingDown, in: fresh.shutdown()))
        var authenticating = Machine(limits: Self.limits, certificateIdentity: true)
        _ = authenticating.lineReceived(Self.line(.hello(Hello(replica: Self.a))))
        #expect(Self.fatal(.shuttingDown, in: authenticating.shutdown()))
        var ready = Self.ready()
        #expect(Self.fatal(.shuttingDown, in: ready.shutdown()))
        #expect(ready.shutdown() == .none)
        // Work that finishes after the close is not answered.
        #expect(ready.pushStored(Ack(batch: "b", accepted: 1, duplicates: 0, author: "a")) == .none)
        #expect(ready.fetched(ChangesPage(changes: [], cursor: Cursor("s1:0"), more: false)) == .none)
        #expect(ready.pushFailed(batch: "b", error: ClusterSyncError(.internal, "disk"), change: nil) == .none)
    }

    // MARK: Push validation

    static let makerKey = ReplicaSigningKey()

    /// Validates `push` with its changes signed by their maker, whose key is registered.
    static func rejection(_ push: Push, now: Int64 = now) -> PushRejection? {
        var signed = push
        signed.changes = push.changes.map { ChangeSignature.signed($0, with: makerKey) }
        return rejection(unsigned: signed, now: now, keys: Dictionary(signed.changes.map { ($0.id.replica, makerKey.publicKey) }) { a, _ in a })
    }

    static func rejection(unsigned push: Push, now: Int64 = now, keys: [ReplicaID: ReplicaPublicKey]) -> PushRejection? {
        do throws(PushRejection) {
            try PushValidation.validate(push, for: identity, nowMillis: now, limits: limits, keys: keys)
            return nil
        } catch {
            return error
        }
    }

    @Test func signaturesAreCheckedLastAgainstTheMakersKey() throws {
        let good = ChangeSignature.signed(Self.change(1), with: Self.makerKey)
        let keys = [good.id.replica: Self.makerKey.publicKey]
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: [good]), keys: keys) == nil)
        var forged = good
        forged.value = .string("Altered after signing")
        let refusal = try #require(Self.rejection(unsigned: Push(batch: "b", changes: [good, forged]), keys: keys))
        #expect(refusal.change == forged.id && refusal.error.code == .badSignature)
        var unsigned = good
        unsigned.sig = nil
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: [unsigned]), keys: keys)?.error.code == .badSignature)
        // A maker with no registered key: no one can vouch for its change.
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: [good]), keys: [:])?.error.code == .badSignature)
        // Another replica's key does not verify it.
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: [good]), keys: [good.id.replica: ReplicaSigningKey().publicKey])?.error.code == .badSignature)
        // A change that breaks an earlier rule gets that rule's code, signed or not.
        var skewed = Self.change(1, millis: Self.now + 600_000)
        skewed.sig = nil
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: [skewed]), keys: keys)?.error.code == .clockSkew)
        // The author is not signed: the server sets it.
        var stamped = good
        stamped.author = "W95010 (Siân Evans)"
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: [stamped]), keys: keys) == nil)
    }

    /// A batch large enough to be verified on every core (one run of changes per core) names
    /// the same change a one-by-one check would: the first bad one in batch order.
    @Test func aLargeBatchNamesItsFirstBadSignatureInBatchOrder() throws {
        let good = (1...1000).map { ChangeSignature.signed(Self.change(Int64($0)), with: Self.makerKey) }
        let keys = [Self.a: Self.makerKey.publicKey]
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: good), keys: keys) == nil)
        func forged(_ positions: [Int], skewed: [Int] = []) -> [Change] {
            var changes = good
            for p in positions { changes[p].value = .string("Altered after signing \(p)") }
            for p in skewed { changes[p].hlc = HLCTimestamp(millis: Self.now + 600_000) }
            return changes
        }
        // Change 900 of 1000 (index 899), late in the last run; then a second forged one after it
        // in the same run, and one in an earlier run.
        for (positions, expected) in [([899], 899), ([899, 950], 899), ([950, 899], 899), ([899, 120], 120), ([999], 999), ([0, 999], 0)] {
            let refusal = try #require(Self.rejection(unsigned: Push(batch: "b", changes: forged(positions)), keys: keys))
            #expect(refusal.change == good[expected].id && refusal.error.code == .badSignature, "\(positions)")
            #expect(refusal.error.message.contains("change \(good[expected].id)'s signature"), "\(positions)")
        }
        // Each change is checked whole in order: an earlier change's admission error is named
        // before a later bad signature, and a bad signature before a later admission error.
        let skewFirst = try #require(Self.rejection(unsigned: Push(batch: "b", changes: forged([899], skewed: [300])), keys: keys))
        #expect(skewFirst.change == good[300].id && skewFirst.error.code == .clockSkew)
        let signatureFirst = try #require(Self.rejection(unsigned: Push(batch: "b", changes: forged([600], skewed: [900])), keys: keys))
        #expect(signatureFirst.change == good[600].id && signatureFirst.error.code == .badSignature)
        // A maker with no key: the first change is named.
        #expect(Self.rejection(unsigned: Push(batch: "b", changes: good), keys: [:])?.change == good[0].id)
    }

    @Test func validPushesPass() {
        let push = Push(batch: "b", changes: [
            Self.change(1), Self.change(2, practice: "W95010"), Self.change(3, field: "tags", value: nil),
            Self.change(4, millis: Self.now + Self.limits.maxClockSkewMillis),
        ])
        #expect(Self.rejection(push) == nil)
    }

    @Test func theFirstBadChangeIsNamed() throws {
        let push = Push(batch: "b", changes: [Self.change(1), Self.change(2, field: "titel"), Self.change(3, practice: "W95011")])
        let rejection = try #require(Self.rejection(push))
        #expect(rejection.change == ChangeID(replica: Self.a, counter: 2))
        #expect(rejection.error.code == .unknownField && rejection.error.field == "titel")
        #expect(rejection.error.message.hasPrefix("change 2@5f0c9e1a2b3c4d5e: "))
    }

    @Test(arguments: [("W95011", "rhondda"), (nil, "taff-ely")] as [(String?, String)])
    func changesOutsideTheIdentitysScopesAreForbidden(_ practice: String?, _ cluster: String) throws {
        let rejection = try #require(Self.rejection(Push(batch: "b", changes: [Self.change(1, practice: practice, cluster: cluster)])))
        #expect(rejection.error.code == .forbiddenScope)
        #expect(rejection.error.message.contains("change 1@5f0c9e1a2b3c4d5e is for "))
        var otherTenant = Self.change(2)
        otherTenant.scope.tenant = "abuhb"
        #expect(Self.rejection(Push(batch: "b", changes: [otherTenant]))?.error.code == .forbiddenScope)
    }

    @Test func changesTooFarAheadAreRefused() throws {
        let limit = Self.now + Self.limits.maxClockSkewMillis
        #expect(Self.rejection(Push(batch: "b", changes: [Self.change(1, millis: limit)])) == nil)
        let rejection = try #require(Self.rejection(Push(batch: "b", changes: [Self.change(1, millis: limit + 1)])))
        #expect(rejection.error.code == .clockSkew)
        #expect(rejection.error.message.contains("300001 ms ahead"))
        // Stamps in the past are fine, however old.
        #expect(Self.rejection(Push(batch: "b", changes: [Self.change(1, millis: 0)])) == nil)
    }

    @Test func scopeIsCheckedBeforeClockAndClockBeforeValue() {
        let all = Self.change(1, millis: Self.now + 3_600_000, field: "titel", practice: "W95011")
        #expect(Self.rejection(Push(batch: "b", changes: [all]))?.error.code == .forbiddenScope)
        let clockAndValue = Self.change(1, millis: Self.now + 3_600_000, field: "titel")
        #expect(Self.rejection(Push(batch: "b", changes: [clockAndValue]))?.error.code == .clockSkew)
    }

    @Test func patientDataIsRefusedWithoutRepeatingIt() throws {
        let change = Self.change(1, field: "description", value: .string("Patient 943 476 5919 waited."))
        let rejection = try #require(Self.rejection(Push(batch: "b", changes: [change])))
        #expect(rejection.error.code == .patientData && rejection.error.field == "description")
        #expect(!rejection.error.message.contains("943"))
    }
}

/// A monotonic clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Mutex(NIODeadline.uptimeNanoseconds(1_000_000_000))
    func read() -> NIODeadline { now.withLock { $0 } }
    func advance(_ amount: TimeAmount) { now.withLock { $0 = $0 + amount } }
}

@Suite struct ServerSessionTimeoutTests {
    typealias Machine = ServerSessionStateMachine
    static let hello = Hello(replica: ReplicaID("5f0c9e1a2b3c4d5e")!, token: "t")

    static func machine(_ clock: ManualClock, idle: Int64 = 300_000) -> Machine {
        var limits = WireLimits.default
        limits.idleTimeoutMillis = idle
        return Machine(limits: limits, certificateIdentity: false, sessionLimits: SessionLimits(helloTimeout: .seconds(10)), clock: clock.read)
    }

    /// A machine on `clock` whose session is welcomed.
    static func welcomed(_ clock: ManualClock, idle: Int64) -> Machine {
        var machine = Self.machine(clock, idle: idle)
        _ = machine.start()
        _ = machine.lineReceived(ServerSessionStateMachineTests.line(.hello(Self.hello)))
        _ = machine.authenticated(ServerSessionStateMachineTests.identity, server: "s")
        return machine
    }

    static func timedOut(_ action: Machine.Action) -> Bool {
        if case .close(let error?) = action { return error.code == "timed-out" && error.fatal }
        return false
    }

    @Test func theHelloIsDueWithinTheHelloTimeout() {
        let clock = ManualClock()
        var machine = Self.machine(clock)
        let start = clock.read()
        #expect(machine.start() == .armTimer(start + .seconds(10)))
        clock.advance(.seconds(4))
        // A line that is not a hello does not move the deadline.
        _ = machine.lineReceived("{")
        #expect(machine.timerFired() == .armTimer(start + .seconds(10)), "early: look again at the deadline")
        clock.advance(.seconds(6))
        let action = machine.timerFired()
        #expect(Self.timedOut(action))
        if case .close(let error?) = action { #expect(error.message.contains("no hello within 10 s")) }
        #expect(machine.isClosed)
        #expect(machine.timerFired() == .none)
    }

    @Test func checkingTheCredentialsIsNotTheClientsWait() {
        let clock = ManualClock()
        var machine = Self.machine(clock)
        _ = machine.start()
        clock.advance(.seconds(9))
        #expect(machine.lineReceived(ServerSessionStateMachineTests.line(.hello(Self.hello))) == .authenticate(Self.hello))
        clock.advance(.seconds(30))
        #expect(machine.timerFired() == .armTimer(clock.read() + .seconds(10)))
        guard case .send(.welcome) = machine.authenticated(ServerSessionStateMachineTests.identity, server: "s") else {
            Issue.record("expected a welcome")
            return
        }
    }

    @Test func aWelcomedSessionClosesAfterTheIdleTimeoutAndPingKeepsItOpen() {
        let clock = ManualClock()
        var machine = Self.machine(clock, idle: 300_000)
        _ = machine.start()
        _ = machine.lineReceived(ServerSessionStateMachineTests.line(.hello(Self.hello)))
        guard case .send(.welcome(let welcome)) = machine.authenticated(ServerSessionStateMachineTests.identity, server: "s") else {
            Issue.record("expected a welcome")
            return
        }
        #expect(welcome.limits.idleTimeoutMillis == 300_000, "announced, so the client knows how often to ping")
        let welcomed = clock.read()
        clock.advance(.seconds(200))
        #expect(machine.lineReceived(ServerSessionStateMachineTests.line(.ping(Ping()))) == .send(.pong(Ping())))
        clock.advance(.seconds(100))
        #expect(machine.timerFired() == .armTimer(welcomed + .seconds(500)), "the ping moved the deadline")
        clock.advance(.seconds(199))
        #expect(machine.timerFired() == .armTimer(welcomed + .seconds(500)))
        clock.advance(.seconds(1))
        let action = machine.timerFired()
        #expect(Self.timedOut(action))
        if case .close(let error?) = action { #expect(error.message.contains("send ping")) }
    }

    @Test func anAnswerCountsAsActivity() {
        let clock = ManualClock()
        var machine = Self.welcomed(clock, idle: 60_000)
        _ = machine.lineReceived(ServerSessionStateMachineTests.line(.pull(Pull(cursor: nil))))
        // The store took 90 s: the client was waiting, not idle.
        clock.advance(.seconds(90))
        _ = machine.fetched(ChangesPage(changes: [], cursor: Cursor("s1:0"), more: false))
        #expect(machine.timerFired() == .armTimer(clock.read() + .seconds(60)))
    }

    /// A push the store takes longer than the idle timeout to commit does not close the session:
    /// the client is waiting for its answer. Quiet after the answer, it closes as usual.
    @Test func aPushBeingStoredIsNotIdleTime() {
        let clock = ManualClock()
        var machine = Self.welcomed(clock, idle: 60_000)
        let push = Push(batch: "b1", changes: [ServerSessionStateMachineTests.change(1)])
        guard case .store = machine.lineReceived(ServerSessionStateMachineTests.line(.push(push))) else {
            Issue.record("expected the push to be stored")
            return
        }
        clock.advance(.seconds(90))
        #expect(machine.timerFired() == .armTimer(clock.read() + .seconds(60)), "the server is storing it")
        clock.advance(.seconds(60))
        #expect(!Self.timedOut(machine.timerFired()), "still storing")
        _ = machine.pushStored(Ack(batch: "b1", accepted: 1, duplicates: 0, author: "W95010"))
        clock.advance(.seconds(59))
        #expect(machine.timerFired() == .armTimer(clock.read() + .seconds(1)))
        clock.advance(.seconds(1))
        #expect(Self.timedOut(machine.timerFired()))
    }

    @Test func anIdleTimeoutOfZeroNeverCloses() {
        let clock = ManualClock()
        var machine = Self.machine(clock, idle: 0)
        _ = machine.start()
        _ = machine.lineReceived(ServerSessionStateMachineTests.line(.hello(Self.hello)))
        _ = machine.authenticated(ServerSessionStateMachineTests.identity, server: "s")
        clock.advance(.hours(24))
        #expect(machine.timerFired() == .none)
        #expect(!machine.isClosed)
    }

    @Test func tooMuchBeforeWelcomeAndTooManyConnectionsAreFatal() {
        var flooding = Machine(limits: .default, certificateIdentity: false)
        guard case .close(let error?) = flooding.tooMuchBeforeWelcome() else {
            Issue.record("expected a fatal error")
            return
        }
        #expect(error.code == "line-too-long" && error.fatal && error.message.contains("16384"))

        var crowded = Machine(limits: .default, certificateIdentity: false)
        _ = crowded.lineReceived(ServerSessionStateMachineTests.line(.hello(Self.hello)))
        #expect(crowded.tooManyConnections("full") == .close(WireError(code: "too-many-connections", message: "full", fatal: true)))
    }
}

extension ServerSessionStateMachineTests {
    // MARK: Snapshots and history (PROTOCOL.md §5.7, §5.12)

    @Test func aSnapshotPullAsksForTheFirstPageAndItsAnswerIsASnapshot() {
        var machine = Self.ready()
        #expect(machine.lineReceived(#"{"type":"pull","snapshot":true,"limit":5000}"#)
                == .fetchSnapshot(Pull(cursor: nil, limit: Self.limits.maxChangesPerPage, snapshot: true)))
        // A stream cursor beside "snapshot":true does not matter: the snapshot starts at the start.
        #expect(machine.lineReceived(#"{"type":"pull","snapshot":true,"cursor":"s1:3"}"#)
                == .fetchSnapshot(Pull(cursor: nil, limit: Self.limits.maxChangesPerPage, snapshot: true)))
        let page = Snapshot(changes: [Self.change(1)], cursor: Cursor("s1:1"), more: false)
        #expect(machine.fetchedSnapshot(page) == .send(.snapshot(page)))
    }

    @Test func aSnapshotCursorContinuesTheSnapshotIfTheServerCouldHaveIssuedIt() {
        var machine = Self.ready()
        let next = Cursor("s1:5/RSK-7K3M9Q2X1A/title/1/3")
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: next)))) == .findStreamEnd)
        #expect(machine.streamEnd(Cursor("s1:5")) == .fetchSnapshot(Pull(cursor: next, limit: Self.limits.maxChangesPerPage, snapshot: true)))
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: next)))) == .findStreamEnd)
        #expect(Self.nonFatal(.malformed, in: machine.streamEnd(Cursor("s1:4"))), "a snapshot of a position past the end was never issued")
        for bad in ["s1:5/RSK-7K3M9Q2X1A/title/01/3", "s1:5/RSK-7K3M9Q2X1A/Title/1/3", "s1:5/nope/title/1/3", "s1:5/RSK-7K3M9Q2X1A/title/1",
                    "s1:05/RSK-7K3M9Q2X1A/title/1/3"] {
            #expect(Self.nonFatal(.malformed, in: machine.lineReceived(Self.line(.pull(Pull(cursor: Cursor(bad)))))), "\(bad)")
        }
        #expect(Self.nonFatal(.malformed, in: machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: next))))),
                "a subscription starts from a stream position, not inside a snapshot")
    }

    /// A read-only session's page that goes on (PROTOCOL.md §7.1) is continued by a pull, even
    /// one that says `snapshot` (a read-only snapshot's next page is a pull), if the server
    /// could have issued its cursor: spelled as it writes one, its end not past the stream's.
    @Test func anOversightCursorContinuesAPullIfTheServerCouldHaveIssuedIt() throws {
        let next = OversightCursor(end: 5, after: 2, cluster: "cwm-taf/rhondda", record: RecordID("RSK-7K3M9Q2X1A")!,
                                   replica: ReplicaID("7e2a4c6e8a0b1d3f")!, counter: 3)
        #expect(next.cursor == Cursor("o1:5/2/cwm%2Dtaf%2Frhondda/RSK-7K3M9Q2X1A/7e2a4c6e8a0b1d3f/3"))
        #expect(try OversightCursor(next.cursor) == next)
        var machine = Self.ready()
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: next.cursor, snapshot: true)))) == .findStreamEnd)
        #expect(machine.streamEnd(Cursor("s1:5")) == .fetch(Pull(cursor: next.cursor, limit: Self.limits.maxChangesPerPage)))
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: next.cursor)))) == .findStreamEnd)
        #expect(Self.nonFatal(.malformed, in: machine.streamEnd(Cursor("s1:4"))), "a page of a position past the end was never issued")
        let good = next.cursor.rawValue
        for bad in [good.replacingOccurrences(of: "/3", with: "/03"), good.replacingOccurrences(of: "o1:5/2", with: "o1:2/5"),
                    good.replacingOccurrences(of: "o1:5", with: "o1:05"), good.replacingOccurrences(of: "7e2a", with: "7E2A"),
                    good.replacingOccurrences(of: "cwm%2D", with: "cwm-"), good.replacingOccurrences(of: "RSK-7K3M9Q2X1A", with: "nope"),
                    good.replacingOccurrences(of: "/3", with: ""), good + "/1", "o1:", "O1:5/2/a/RSK-7K3M9Q2X1A/7e2a4c6e8a0b1d3f/3"] {
            #expect(Self.nonFatal(.malformed, in: machine.lineReceived(Self.line(.pull(Pull(cursor: Cursor(bad)))))), "\(bad)")
        }
        #expect(Self.nonFatal(.malformed, in: machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: next.cursor))))),
                "a subscription starts from a stream position, not inside a page")
    }

    @Test func historyAsksForOneRecordWithinThePageLimitSubscribedOrNot() {
        var machine = Self.ready()
        let record = RecordID("RSK-7K3M9Q2X1A")!
        #expect(machine.lineReceived(#"{"type":"history","record":"RSK-7K3M9Q2X1A","limit":99999}"#)
                == .fetchHistory(HistoryRequest(record: record, limit: Self.limits.maxChangesPerPage)))
        #expect(Self.nonFatal(.malformed, in: machine.lineReceived(#"{"type":"history","record":"nope"}"#)))
        let page = HistoryPage(record: record, changes: [Self.change(1)], cursor: Cursor("h1:title/1/1"), more: false)
        #expect(machine.fetchedHistory(page) == .send(.historyPage(page)))
        #expect(HistoryCursor(field: "title", replica: 1, counter: 1).cursor == Cursor("h1:title/1/1"))
        #expect((try? HistoryCursor(Cursor("h1:title/1/01"))) == nil)
    }

    /// A map entry's field holds any character after its colon; a cursor escapes it, so it reads
    /// back, and has one spelling (no escape of a plain letter, capital hex digits only).
    @Test(arguments: ["votes:Dr Evans/Smith", "votes:Siân Ó 100%", "votes:a/b:c%2F", "title", "votes:x", "votes:日本",
                      "votes:" + String(repeating: "e" + String(repeating: "\u{301}", count: 40), count: 100)])
    func cursorsNamingAnyFieldReadBack(_ field: String) throws {
        let snapshot = SnapshotCursor(end: 5, record: RecordID("DEC-7K3M9Q2X1A")!, field: field, replica: 2, counter: 3)
        #expect(try SnapshotCursor(snapshot.cursor) == snapshot)
        let history = HistoryCursor(field: field, replica: 2, counter: 3)
        #expect(try HistoryCursor(history.cursor) == history)
        #expect(snapshot.cursor.rawValue.split(separator: "/").count == 5)
        // The largest counter a change may carry reads back too; one past it is no number.
        let last = SnapshotCursor(end: 5, record: RecordID("DEC-7K3M9Q2X1A")!, field: field, replica: 2, counter: .max)
        #expect(try SnapshotCursor(last.cursor) == last)
        #expect(try HistoryCursor(HistoryCursor(field: field, replica: 2, counter: .max).cursor).counter == .max)
        #expect((try? SnapshotCursor(Cursor(last.cursor.rawValue.replacingOccurrences(of: "9223372036854775807", with: "9223372036854775808")))) == nil)
    }

    @Test func aCursorFieldSpelledAnyOtherWayIsMalformed() throws {
        #expect(SnapshotCursor(end: 5, record: RecordID("DEC-7K3M9Q2X1A")!, field: "votes:Dr Evans/Smith", replica: 2, counter: 3).cursor
                == Cursor("s1:5/DEC-7K3M9Q2X1A/votes%3A%44r%20%45vans%2F%53mith/2/3"))
        for bad in ["s1:5/DEC-7K3M9Q2X1A/vot%65s/2/3", "s1:5/DEC-7K3M9Q2X1A/votes%3a%44r/2/3", "s1:5/DEC-7K3M9Q2X1A/votes%3/2/3",
                    "s1:5/DEC-7K3M9Q2X1A/votes:x/2/3", "s1:5/DEC-7K3M9Q2X1A/%FF/2/3", "s1:5/DEC-7K3M9Q2X1A//2/3"] {
            #expect((try? SnapshotCursor(Cursor(bad))) == nil, "\(bad)")
        }
        #expect(try HistoryCursor.after(HistoryCursor.start) == nil, "the empty page's cursor reads back as the start")
        #expect(throws: ClusterSyncError.self) { try HistoryCursor.after(Cursor("h1:/1/1")) }
    }
}
