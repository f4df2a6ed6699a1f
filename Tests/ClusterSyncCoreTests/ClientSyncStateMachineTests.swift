import ClusterSyncCore
import Testing

/// The client's sync rules, event in, action out, without sockets or files.
@Suite struct ClientSyncStateMachineTests {
    typealias Machine = ClientSyncStateMachine
    typealias Action = ClientSyncStateMachine.Action

    static let me = Fixtures.a
    static let identity = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "prestatyn", author: "prestatyn (laptop)")
    static let limits = WireLimits(maxChangesPerPush: 2)
    static let welcome = WireMessage.welcome(Welcome(identity: identity, limits: limits, server: "clustersyncd test"))

    static func configuration(_ mode: Machine.Mode) -> Machine.Configuration {
        var c = Machine.Configuration(mode: mode, replica: me, tenant: "bcuhb", cluster: "north-denbighshire", practice: "prestatyn",
                                      credential: "the token in prestatyn.token", server: "sync.test:7443")
        c.pingMillis = 1_000
        c.pongTimeoutMillis = 500
        c.pollMillis = 200
        c.reconnectBaseMillis = 100
        c.reconnectMaxMillis = 1_600
        return c
    }

    static func change(_ counter: Int64, replica: ReplicaID = me) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_000 + counter), record: Fixtures.risk,
               scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"), field: "title", value: .string("t\(counter)"))
    }

    static func page(_ changes: [Change], _ cursor: String, more: Bool) -> WireMessage {
        .changes(ChangesPage(changes: changes, cursor: Cursor(cursor), more: more))
    }

    /// A machine connected and welcomed, its first outbox read answered with `outbox`.
    static func welcomed(_ mode: Machine.Mode, cursor: String? = "s1:4", outbox: [Change] = []) -> (Machine, [Action]) {
        var m = Machine(configuration(mode), cursor: cursor.map(Cursor.init), pending: outbox.count)
        #expect(m.start(now: 0) == [.connect(afterMillis: 0)])
        #expect(m.handle(.connected, now: 0) == [.sendHello])
        #expect(m.handle(.received(welcome), now: 1) == [.rememberLimits(limits), .readOutbox(after: nil, limit: 2)])
        let actions = m.handle(.outboxRead(outbox), now: 2)
        return (m, actions)
    }

    /// A watching machine caught up and subscribed at `s1:4`.
    static func streaming() -> Machine {
        var (m, actions) = welcomed(.watch)
        #expect(actions == [.send(.pull(Pull(cursor: Cursor("s1:4"))))])
        _ = m.handle(.received(page([], "s1:4", more: false)), now: 3)
        #expect(m.handle(.received(.subscribed(Subscribed(cursor: Cursor("s1:4")))), now: 4) == [.notice(.watching(author: "prestatyn (laptop)"))])
        return m
    }

    func failure(_ actions: [Action]) -> ClusterSyncError? {
        if case .fail(let error) = actions.last { return error }
        return nil
    }

    // MARK: One sync

    /// A client splits what it read of its outbox so that no push names more superseded ids
    /// than the server takes (`Push.maxSupersedes`), and reads on after what it sent.
    @Test func aPushNamesAtMostTheSupersededIdsOnePushMayHold() {
        func superseding(_ n: Int64, _ count: Int) -> Change {
            var change = Self.change(n)
            change.supersedes = (0..<count).map { ChangeID(replica: ReplicaID(String(format: "%016x", $0 + 1))!, counter: n) }
            return change
        }
        let heavy = [superseding(1, 6_000), superseding(2, 6_000)]
        let (_, actions) = Self.welcomed(.once, outbox: heavy)
        #expect(actions == [.send(.push(Push(batch: "\(Self.me)-1", changes: [heavy[0]]))), .readOutbox(after: heavy[0].id, limit: 2)],
                "the second change goes in the next push, and the outbox is not taken as drained")
        #expect(Array(Push.fitting([superseding(1, 1), superseding(2, 1)])).count == 2)
    }

    /// A push's line stays within the server's `maxLineBytes`: long texts go in more pushes,
    /// and a change whose text alone is longer than a line is held back (the server refused the
    /// line `line-too-long`, a fatal error that stopped this sync and every one after it, since
    /// each read the same changes into the same line).
    @Test func aPushLineStaysWithinTheServersLongestLine() {
        func long(_ n: Int64, _ bytes: Int) -> Change {
            var change = Self.change(n)
            change.field = "description"
            change.value = .string(String(repeating: "ŵ", count: bytes / 2))
            return change
        }
        let texts = [long(1, 3_000), long(2, 3_000), long(3, 3_000)]
        #expect(Push.fitting(texts, maxLineBytes: 7_000).count == 2)
        #expect(Push.fitting(texts, maxLineBytes: 6_000).count == 1)
        #expect(Push.fitting(texts).count == 3, "no bound given: the superseded ids' alone")
        #expect(Push.fitting(texts, maxLineBytes: 2_000).isEmpty, "the first alone is longer than a line")
        // Both bounds at once: the ids cut the push after two, and the line after one.
        var naming = texts
        for i in naming.indices {
            naming[i].supersedes = (0..<4_000).map { ChangeID(replica: ReplicaID(String(format: "%016x", $0 + 1))!, counter: 1) }
        }
        #expect(Push.fitting(naming).count == 2)
        #expect(Push.fitting(naming, maxLineBytes: 150_000).count == 1, "each names 4,000 ids: about 87 KB of text")
        #expect(Push.fitting(naming, maxLineBytes: 50_000).count == 0)
        // The bound that spares ordinary pushes the measuring is never below the text itself.
        var escaped = long(4, 20)
        escaped.value = .object(["\u{1}\"": .array([.string("\n\u{7}\\"), .int(.min), .double(-1.5e-300), .null, .bool(false)])])
        escaped.author = "Siân \"Evans\""
        escaped.scope.practice = "W95010"
        escaped.supersedes = [ChangeID(replica: Fixtures.b, counter: ChangeID.maxCounter)]
        escaped.sig = String(repeating: "A", count: 86) + "=="
        for change in texts + [escaped, Self.change(1)] {
            #expect(Push.textBytesBound(change) >= change.jsonText.utf8.count, "\(change.jsonText)")
        }

        var limits = Self.limits
        limits.maxLineBytes = 7_000
        var m = Machine(Self.configuration(.once), cursor: Cursor("s1:4"), pending: 3)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let welcome = WireMessage.welcome(Welcome(identity: Self.identity, limits: limits, server: "clustersyncd test"))
        #expect(m.handle(.received(welcome), now: 1) == [.rememberLimits(limits), .readOutbox(after: nil, limit: 2)])
        let tooLong = long(1, 8_000)
        let actions = m.handle(.outboxRead([tooLong, texts[1]]), now: 2)
        #expect(actions == [.holdBack(tooLong.id, code: "line-too-long", reason: Push.tooLongForALine(tooLong, maxLineBytes: 7_000)),
                            .readOutbox(after: tooLong.id, limit: 2)],
                "held back, and the outbox read on after it")
        #expect(Push.tooLongForALine(tooLong, maxLineBytes: 7_000).contains("make the description of \(Fixtures.risk) shorter"))
        #expect(m.handle(.outboxRead([texts[1], texts[2]]), now: 3)
                    == [.send(.push(Push(batch: "\(Self.me)-1", changes: [texts[1], texts[2]]))), .readOutbox(after: texts[2].id, limit: 2)])
    }

    /// An ack's author is written on every change of its batch: one no server stamps (60 MB of
    /// it, or control characters) stops the sync before anything is acknowledged; the longest a
    /// server stamps (a practice of 64 characters and a label of 64) is taken.
    @Test(arguments: [String(repeating: "x", count: 200), "prestatyn (\u{1B}[2J)", ""])
    func anAckWhoseAuthorNoServerStampsStopsTheSync(author: String) throws {
        let changes = (1...2).map { Self.change($0) }
        var (m, actions) = Self.welcomed(.once, outbox: changes)
        #expect(actions.first == .send(.push(Push(batch: "\(Self.me)-1", changes: changes))))
        let acked = m.handle(.received(.ack(Ack(batch: "\(Self.me)-1", accepted: 2, duplicates: 0, author: author))), now: 4)
        #expect(!acked.contains { if case .acknowledge = $0 { true } else { false } })
        #expect(try #require(failure(acked)).message.contains("answered out of turn"))
        let longest = String(repeating: "p", count: 64) + " (" + String(repeating: "ŷ", count: 64) + ")"
        #expect(AuthorName.couldBeStamp(longest) && AuthorName.couldBeStamp("prestatyn (Siân Evans)") && AuthorName.couldBeStamp("W95010"))
        // A code point this end's Unicode tables may not know (a newer emoji in a label) is not
        // refused: only control characters and line breaks are, which every version knows.
        #expect(AuthorName.couldBeStamp("W95010 (Reception \u{10FFFD})"))
    }

    /// A page saying more follow at the cursor it was asked with stops the sync: the next pull
    /// would be the same request, and a server answering alike kept `sync` asking for ever.
    @Test func aPageThatDoesNotMoveOnStopsTheSync() throws {
        var (m, actions) = Self.welcomed(.once)
        #expect(actions == [.send(.pull(Pull(cursor: Cursor("s1:4"))))])
        let still = m.handle(.received(Self.page([], "s1:4", more: true)), now: 3)
        #expect(try #require(failure(still)).message.contains("did not move on from its cursor (s1:4)"))
        #expect(!still.contains { if case .send(.pull) = $0 { true } else { false } })
        // One that moves on is asked for the next.
        var (moving, _) = Self.welcomed(.once)
        #expect(moving.handle(.received(Self.page([], "s1:5", more: true)), now: 3).first == .send(.pull(Pull(cursor: Cursor("s1:5")))))
    }

    @Test func aSyncPushesTwoBatchesInFlightThenPullsEveryPageAndSaysBye() throws {
        let changes = (1...5).map { Self.change($0) }
        var (m, actions) = Self.welcomed(.once, outbox: Array(changes[0..<2]))
        #expect(actions == [.send(.push(Push(batch: "\(Self.me)-1", changes: Array(changes[0..<2])))),
                            .readOutbox(after: changes[1].id, limit: 2)])
        // The second batch goes out before the first is acknowledged; no third until an ack.
        #expect(m.handle(.outboxRead(Array(changes[2..<4])), now: 3) == [.send(.push(Push(batch: "\(Self.me)-2", changes: Array(changes[2..<4]))))])
        var acked = m.handle(.received(.ack(Ack(batch: "\(Self.me)-1", accepted: 2, duplicates: 0, author: "prestatyn (laptop)"))), now: 4)
        var progress = Machine.Progress()
        progress.toPush = 2
        progress.pushed = 2
        #expect(acked == [.acknowledge(Array(changes[0..<2]).map(\.id), author: "prestatyn (laptop)"), .progress(progress),
                          .readOutbox(after: changes[3].id, limit: 2)])
        #expect(m.handle(.outboxRead([changes[4]]), now: 5) == [.send(.push(Push(batch: "\(Self.me)-3", changes: [changes[4]]))),
                                                                 .send(.pull(Pull(cursor: Cursor("s1:4"))))],
                "fewer than asked for: the outbox's end, so it pulls from the stored cursor at once, without another read or the last acks (the server answers in order)")
        acked = m.handle(.received(.ack(Ack(batch: "\(Self.me)-2", accepted: 1, duplicates: 1, author: "prestatyn (laptop)"))), now: 6)
        #expect(!acked.contains { if case .readOutbox = $0 { true } else { false } }, "drained: the outbox is not read again")
        // A page cannot come before the ack of a push sent before its pull.
        var early = m
        #expect(failure(early.handle(.received(Self.page([], "s1:9", more: false)), now: 8))?.message.contains("out of turn") == true,
                "a page before the last ack")
        acked = m.handle(.received(.ack(Ack(batch: "\(Self.me)-3", accepted: 1, duplicates: 0, author: "prestatyn (laptop)"))), now: 8)
        progress.pushed = 5
        #expect(acked == [.acknowledge([changes[4].id], author: "prestatyn (laptop)"), .progress(progress)], "nothing more to ask for")

        let other = Self.change(1, replica: Fixtures.b)
        let first = m.handle(.received(Self.page([other], "s1:9", more: true)), now: 9)
        #expect(Array(first.prefix(2)) == [.send(.pull(Pull(cursor: Cursor("s1:9")))), .apply(ChangesPage(changes: [other], cursor: Cursor("s1:9"), more: true))])
        let last = m.handle(.received(Self.page([], "s1:9", more: false)), now: 10)
        var summary = Machine.Summary()
        summary.pushed = 4
        summary.duplicates = 1
        summary.author = "prestatyn (laptop)"
        #expect(Array(last.prefix(2)) == [.send(.bye), .apply(ChangesPage(changes: [], cursor: Cursor("s1:9"), more: false))],
                "bye goes out before the last page is applied")
        #expect(Array(last.suffix(3)) == [.recordSuccessfulSync, .close, .finish(summary)])
        #expect(m.cursor == Cursor("s1:9"))
        #expect(m.handle(.tick, now: 100_000) == [], "a finished sync does nothing more")
    }

    /// Relays wait in the outbox until the replica learns their maker's key is registered, which
    /// a pull can tell it (a replica's first sync after `merge`): the sync then reads the outbox
    /// again once the last page is applied and pushes what became pushable, instead of leaving it
    /// pending, unexplained, for the next sync.
    @Test func aSyncWithRelaysWaitingReadsTheOutboxAgainAfterThePullAndPushesWhatItMayNow() throws {
        var configuration = Self.configuration(.once)
        configuration.relaysWaiting = true
        var m = Machine(configuration, cursor: Cursor("s1:4"), pending: 1)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        _ = m.handle(.received(Self.welcome), now: 1)
        #expect(m.handle(.outboxRead([]), now: 2) == [.send(.pull(Pull(cursor: Cursor("s1:4"))))], "the relay waits: nothing to push yet")
        let maker = Self.change(2, replica: Fixtures.b)
        let last = m.handle(.received(Self.page([maker], "s1:6", more: false)), now: 3)
        #expect(!last.contains(.send(.bye)) && !last.contains { if case .finish = $0 { true } else { false } })
        #expect(last.last == .readOutbox(after: nil, limit: 2), "read again, after the page is applied")
        #expect(!last.contains(.recordSuccessfulSync), "not over yet")
        #expect(last.firstIndex(of: .apply(ChangesPage(changes: [maker], cursor: Cursor("s1:6"), more: false)))! < last.count - 1)
        let relay = Self.change(1, replica: Fixtures.b)
        #expect(m.handle(.outboxRead([relay]), now: 4) == [.send(.push(Push(batch: "\(Self.me)-1", changes: [relay]))),
                                                            .send(.pull(Pull(cursor: Cursor("s1:6"))))])
        _ = m.handle(.received(.ack(Ack(batch: "\(Self.me)-1", accepted: 0, duplicates: 1, author: "prestatyn (laptop)"))), now: 5)
        let end = m.handle(.received(Self.page([], "s1:6", more: false)), now: 6)
        #expect(end.first == .send(.bye) && end.contains(.close) && end.contains(.recordSuccessfulSync), "read once again only: this sync is over")
        #expect(end.contains { if case .finish(let summary) = $0 { summary.duplicates == 1 } else { false } })

        // Nothing became pushable: the sync ends there, without another pull.
        var idle = Machine(configuration, cursor: Cursor("s1:4"), pending: 1)
        _ = idle.start(now: 0)
        _ = idle.handle(.connected, now: 0)
        _ = idle.handle(.received(Self.welcome), now: 1)
        _ = idle.handle(.outboxRead([]), now: 2)
        #expect(idle.handle(.received(Self.page([], "s1:4", more: false)), now: 3).last == .readOutbox(after: nil, limit: 2))
        var summary = Machine.Summary()
        summary.author = "prestatyn (laptop)"
        #expect(idle.handle(.outboxRead([]), now: 4) == [.recordSuccessfulSync, .send(.bye), .close, .finish(summary)])
    }

    @Test func aCredentialOfAnotherPracticeStopsTheSyncBeforeAnyPush() throws {
        var m = Machine(Self.configuration(.once), cursor: nil, pending: 3)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let rhyl = SessionIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", author: "rhyl (laptop)")
        let actions = m.handle(.received(.welcome(Welcome(identity: rhyl, limits: Self.limits, server: "s"))), now: 1)
        #expect(Array(actions.prefix(2)) == [.send(.bye), .close])
        #expect(!actions.contains { if case .readOutbox = $0 { true } else { false } })
        let error = try #require(failure(actions))
        #expect(error.code == .wrongCredential)
        #expect(error.message.contains("the token in prestatyn.token is practice rhyl's"), "\(error.message)")
        #expect(error.message.contains("this replica is practice prestatyn's"), "\(error.message)")
    }

    @Test(arguments: ["forbidden-scope", "clock-skew", "invalid-value", "unauthenticated"])
    func aRefusalStopsTheSyncWithItsWireCode(_ code: String) throws {
        for mode in [Machine.Mode.once, .watch] {
            var (m, _) = Self.welcomed(mode, outbox: [Self.change(1)])
            let fatal = code == "unauthenticated"
            let actions = m.handle(.received(.error(WireError(code: code, message: "no", fatal: fatal, batch: "\(Self.me)-1"))), now: 5)
            let error = try #require(failure(actions), "\(mode)")
            #expect(error.code.rawValue == code)
            #expect(error.isUserError)
            #expect(error.message.contains("(\(code))"))
            #expect(actions.contains(.send(.bye)) == !fatal, "bye only on a session the server keeps open")
        }
    }

    /// A refusal that names one change (its scope, content or maker) holds that change back and
    /// starts a fresh session for the rest; the same change refused again stops the sync, since
    /// holding it back did not take it out of the outbox.
    @Test(arguments: ["forbidden-scope", "invalid-value", "patient-data", "replica-retired"])
    func aRefusalNamingOneChangeHoldsItBackAndPushesTheRest(_ code: String) throws {
        // Also once the outbox is drained and the pull has gone out behind the push.
        for (mode, pulled) in [(Machine.Mode.once, false), (.watch, false), (.once, true), (.watch, true)] {
            var (m, _) = Self.welcomed(mode, outbox: [Self.change(1), Self.change(2)])
            if pulled { #expect(m.handle(.outboxRead([]), now: 4) == [.send(.pull(Pull(cursor: Cursor("s1:4"))))]) }
            let refusal = WireError(code: code, message: "no", fatal: false, batch: "\(Self.me)-1", change: Self.change(2).id)
            let actions = m.handle(.received(.error(refusal)), now: 5)
            #expect(actions == [.holdBack(Self.change(2).id, code: code, reason: "no"), .send(.bye), .close, .connect(afterMillis: 0)], "\(mode)")
            // The page the server still sends for that pull is not read: the connection is closing.
            if pulled { #expect(m.handle(.received(Self.page([], "s1:9", more: false)), now: 5) == []) }
            #expect(m.handle(.connected, now: 6) == [.sendHello])
            #expect(m.handle(.received(Self.welcome), now: 7) == [.rememberLimits(Self.limits), .readOutbox(after: nil, limit: 2)])
            _ = m.handle(.outboxRead([Self.change(2)]), now: 8)
            let again = m.handle(.received(.error(refusal)), now: 9)
            #expect(try #require(failure(again)).code.rawValue == code)
        }
        // The clock that is wrong is this machine's: its changes are fine once it is fixed.
        var (m, _) = Self.welcomed(.once, outbox: [Self.change(1)])
        let skew = WireError(code: "clock-skew", message: "ahead", fatal: false, batch: "\(Self.me)-1", change: Self.change(1).id)
        #expect(try #require(failure(m.handle(.received(.error(skew)), now: 5))).code == .clockSkew)
    }

    /// A code this version does not know, naming a change, holds nothing back (§11: read as
    /// `internal`): a newer server's passing refusal held the change back for good. A watch
    /// retries after its back-off; a sync stops, saying so. A refusal naming a change its batch
    /// does not hold holds nothing back either (a fresh one each time reconnected for ever).
    @Test func anUnknownCodeOrAChangeOutsideTheBatchHoldsNothingBack() throws {
        let unknown = WireError(code: "rate-limited", message: "slow down", fatal: false, batch: "\(Self.me)-1", change: Self.change(1).id)
        var (once, _) = Self.welcomed(.once, outbox: [Self.change(1)])
        let stopped = once.handle(.received(.error(unknown)), now: 5)
        #expect(!stopped.contains { if case .holdBack = $0 { true } else { false } })
        #expect(try #require(failure(stopped)).message.contains("slow down (rate-limited, a code this version does not know)"))
        var (watch, _) = Self.welcomed(.watch, outbox: [Self.change(1)])
        let retried = watch.handle(.received(.error(unknown)), now: 5)
        #expect(!retried.contains { if case .holdBack = $0 { true } else { false } } && failure(retried) == nil)
        #expect(retried.contains { if case .connect(let after) = $0 { after > 0 } else { false } }, "\(retried)")

        let elsewhere = WireError(code: "invalid-value", message: "no", fatal: false, batch: "\(Self.me)-1",
                                  change: ChangeID(replica: Self.me, counter: 999))
        var (m, _) = Self.welcomed(.once, outbox: [Self.change(1)])
        let answered = m.handle(.received(.error(elsewhere)), now: 5)
        #expect(!answered.contains { if case .holdBack = $0 { true } else { false } } && failure(answered) != nil)
    }

    /// An edit over another replica's change the server has not been given is held back
    /// (`supersedes-unsynced`); the replica puts it back in the outbox when a pulled page brings
    /// that change. A watch then pushes it at its next poll, and may be refused once more after
    /// each page (another change it names may still be missing) without stopping; refused again
    /// with no page between, it was not taken out of the outbox, and the watch stops.
    @Test func anEditWaitingForAnotherReplicasChangeMayGoAgainAfterEachPulledPage() throws {
        var (m, _) = Self.welcomed(.watch, outbox: [Self.change(1)])
        let refusal = WireError(code: "supersedes-unsynced", message: "waits", fatal: false, batch: "\(Self.me)-1", change: Self.change(1).id)
        #expect(m.handle(.received(.error(refusal)), now: 3)
                == [.holdBack(Self.change(1).id, code: "supersedes-unsynced", reason: "waits"), .send(.bye), .close, .connect(afterMillis: 0)])
        _ = m.handle(.connected, now: 4)
        _ = m.handle(.received(Self.welcome), now: 5)
        #expect(m.handle(.outboxRead([]), now: 6) == [.send(.pull(Pull(cursor: Cursor("s1:4"))))])
        let awaited = Self.page([Self.change(7, replica: Fixtures.b)], "s1:5", more: false)
        #expect(m.handle(.received(awaited), now: 7).contains(.send(.subscribe(Subscribe(cursor: Cursor("s1:5"))))))
        _ = m.handle(.received(.subscribed(Subscribed(cursor: Cursor("s1:5")))), now: 8)
        func pushAgain(at now: Int64) -> [Action] {
            #expect(m.handle(.tick, now: now) == [.readOutbox(after: nil, limit: 2)])
            let pushed = m.handle(.outboxRead([Self.change(1)]), now: now)
            guard case .send(.push(let push)) = pushed.first else { Issue.record("\(pushed)"); return [] }
            var again = refusal
            again.batch = push.batch
            return m.handle(.received(.error(again)), now: now)
        }
        #expect(pushAgain(at: 300).first == .holdBack(Self.change(1).id, code: "supersedes-unsynced", reason: "waits"))
        // After another page, once more; with none between, the watch stops.
        _ = m.handle(.connected, now: 301)
        _ = m.handle(.received(Self.welcome), now: 302)
        _ = m.handle(.outboxRead([]), now: 303)
        _ = m.handle(.received(Self.page([Self.change(8, replica: Fixtures.b)], "s1:6", more: false)), now: 304)
        _ = m.handle(.received(.subscribed(Subscribed(cursor: Cursor("s1:6")))), now: 305)
        #expect(pushAgain(at: 600).first == .holdBack(Self.change(1).id, code: "supersedes-unsynced", reason: "waits"))
        _ = m.handle(.connected, now: 601)
        _ = m.handle(.received(Self.welcome), now: 602)
        _ = m.handle(.outboxRead([]), now: 603)
        _ = m.handle(.received(Self.page([], "s1:6", more: false)), now: 604)
        _ = m.handle(.received(.subscribed(Subscribed(cursor: Cursor("s1:6")))), now: 605)
        #expect(try #require(failure(pushAgain(at: 900))).code == .supersedesUnsynced)
    }

    /// A one-off sync whose pull brings changes after such a hold reads its outbox once more
    /// after its last page, and pushes what the page made pushable in the same sync; a pull
    /// that brings nothing ends the sync as before.
    @Test func aOneOffSyncPushesAnEditThePullMadePushable() throws {
        for brings in [true, false] {
            var (m, _) = Self.welcomed(.once, outbox: [Self.change(1)])
            let refusal = WireError(code: "supersedes-unsynced", message: "waits", fatal: false, batch: "\(Self.me)-1", change: Self.change(1).id)
            _ = m.handle(.received(.error(refusal)), now: 3)
            _ = m.handle(.connected, now: 4)
            _ = m.handle(.received(Self.welcome), now: 5)
            #expect(m.handle(.outboxRead([]), now: 6) == [.send(.pull(Pull(cursor: Cursor("s1:4"))))])
            let page = Self.page(brings ? [Self.change(7, replica: Fixtures.b)] : [], "s1:5", more: false)
            let actions = m.handle(.received(page), now: 7)
            #expect(actions.contains(.readOutbox(after: nil, limit: 2)) == brings, "\(actions)")
            #expect(actions.contains { if case .finish = $0 { true } else { false } } == !brings, "\(actions)")
            guard brings else { continue }
            guard case .send(.push(let push)) = m.handle(.outboxRead([Self.change(1)]), now: 8).first else {
                Issue.record("the released edit was not pushed")
                continue
            }
            #expect(push.changes == [Self.change(1)])
        }
    }

    @Test func aLostConnectionOrARefusedHandshakeEndsOneSync() throws {
        var m = Machine(Self.configuration(.once), cursor: nil, pending: 0)
        _ = m.start(now: 0)
        let refused = m.handle(.connectFailed(.init(.lost, "cannot reach the server at sync.test:7443 (refused)")), now: 1)
        #expect(try #require(failure(refused)).code == .unreachable)
        var (w, _) = Self.welcomed(.watch)
        let rejected = w.handle(.connectionLost(.init(.rejected, "the TLS handshake failed (CERTIFICATE_EXPIRED)")), now: 5)
        #expect(try #require(failure(rejected)).message.contains("CERTIFICATE_EXPIRED"), "a watch does not retry a refused certificate")
    }

    @Test func aStoreThatCannotBeWrittenIsSaidInPlainWordsAndRetriedByAWatch() throws {
        var (once, _) = Self.welcomed(.once, outbox: [Self.change(1)])
        let refusal = WireError(code: "store-unavailable", message: "read-only", fatal: false, batch: "\(Self.me)-1")
        let error = try #require(failure(once.handle(.received(.error(refusal)), now: 5)))
        #expect(error.code == .storeUnavailable)
        #expect(error.message.contains(ClusterSyncError.Code.storeUnavailable.plainWords ?? "?"))
        #expect(error.message.contains("(the server said: read-only (store-unavailable))"), "\(error.message)")
        var (watch, _) = Self.welcomed(.watch, outbox: [Self.change(1)])
        let retried = watch.handle(.received(.error(refusal)), now: 5)
        #expect(Array(retried.prefix(2)) == [.send(.bye), .close])
        #expect(retried.contains { if case .connect = $0 { true } else { false } })
    }

    @Test func anExpiredCursorTakesASnapshotThatReplacesTheState() {
        var (m, _) = Self.welcomed(.once)
        #expect(m.handle(.received(.error(WireError(code: "cursor-expired", message: "old", fatal: false))), now: 5)
                == [.send(.pull(Pull(cursor: nil, snapshot: true)))])
        let page = Snapshot(changes: [Self.change(1, replica: Fixtures.b)], cursor: Cursor("s1:9"), more: false)
        let actions = m.handle(.received(.snapshot(page)), now: 6)
        #expect(Array(actions.prefix(2)) == [.send(.pull(Pull(cursor: Cursor("s1:9")))), .applySnapshot(page, first: true)])
    }

    @Test func aWatchWhoseSubscriptionWasCompactedAwayConnectsAgainAndTakesASnapshot() {
        var m = Self.streaming()
        let expired = WireError(code: "cursor-expired", message: "compacted through 9", fatal: false)
        #expect(m.handle(.received(.error(expired)), now: 5) == [.send(.bye), .close, .connect(afterMillis: 0)],
                "a watch that stopped receiving would sit there until it reconnected for another reason")
        // The new session pulls from the old cursor, which is expired there too: a snapshot.
        #expect(m.handle(.connected, now: 6) == [.sendHello])
        #expect(m.handle(.received(Self.welcome), now: 7) == [.rememberLimits(Self.limits), .readOutbox(after: nil, limit: 2)])
        #expect(m.handle(.outboxRead([]), now: 8) == [.send(.pull(Pull(cursor: Cursor("s1:4"))))])
        #expect(m.handle(.received(.error(expired)), now: 9) == [.send(.pull(Pull(cursor: nil, snapshot: true)))])
    }

    // MARK: The server's store (PROTOCOL.md §5.2, `store`)

    static func welcome(store: String?) -> WireMessage {
        var welcome = Welcome(identity: identity, limits: limits, server: "clustersyncd test")
        welcome.store = store
        return .welcome(welcome)
    }

    /// A machine at cursor s1:4 that last synced with store `known`, welcomed by `store`.
    static func welcomed(knownStore known: String?, by store: String?) -> (Machine, [Action]) {
        var configuration = Self.configuration(.once)
        configuration.knownStore = known
        var m = Machine(configuration, cursor: Cursor("s1:4"), pending: 0)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let actions = m.handle(.received(welcome(store: store)), now: 1)
        return (m, actions)
    }

    @Test func aRestoredStoreMakesTheReplicaPushItsChangesAgainAndReplayTheStreamFromItsStart() {
        var (m, actions) = Self.welcomed(knownStore: "a1", by: "b2")
        #expect(actions == [.rememberLimits(Self.limits), .rememberStore("b2", replaced: true), .readOutbox(after: nil, limit: 2)],
                "the outbox is refilled before it is read")
        #expect(m.cursor == Cursor("s1:0"))
        // The outbox (now every change this replica made) goes first, then the whole stream by replay, not a snapshot.
        #expect(m.handle(.outboxRead([Self.change(1), Self.change(2)]), now: 2).first == .send(.push(Push(batch: "\(Self.me)-1", changes: [Self.change(1), Self.change(2)]))))
        let pulled = m.handle(.outboxRead([]), now: 3)
        #expect(pulled == [.send(.pull(Pull(cursor: Cursor("s1:0"))))], "\(pulled)")
        _ = m.handle(.received(.ack(Ack(batch: "\(Self.me)-1", accepted: 1, duplicates: 1, author: "prestatyn (laptop)"))), now: 4)
        let done = m.handle(.received(Self.page([], "s1:7", more: false)), now: 5)
        guard case .finish(let summary) = done.last else { Issue.record("\(done)"); return }
        #expect(summary.storeReplaced)
    }

    @Test func theFirstStoreAReplicaMeetsOrTheSameOneIsOnlyRemembered() {
        let (first, firstActions) = Self.welcomed(knownStore: nil, by: "a1")
        #expect(firstActions == [.rememberLimits(Self.limits), .rememberStore("a1", replaced: false), .readOutbox(after: nil, limit: 2)])
        #expect(first.cursor == Cursor("s1:4"))
        let (same, sameActions) = Self.welcomed(knownStore: "a1", by: "a1")
        #expect(sameActions == [.rememberLimits(Self.limits), .readOutbox(after: nil, limit: 2)])
        #expect(same.cursor == Cursor("s1:4"))
        // A server from before store identities says nothing: nothing changes.
        let (old, oldActions) = Self.welcomed(knownStore: "a1", by: nil)
        #expect(oldActions == [.rememberLimits(Self.limits), .readOutbox(after: nil, limit: 2)])
        #expect(old.cursor == Cursor("s1:4"))
    }

    // MARK: Snapshots (PROTOCOL.md §5.7)

    @Test func aReplicaWithNoPositionTakesTheStateInPagesThenPullsOn() {
        var (m, actions) = Self.welcomed(.once, cursor: nil)
        #expect(actions == [.send(.pull(Pull(cursor: nil, snapshot: true)))], "a new replica asks for the state, not the history")
        let next = Cursor("s1:9/RSK-7K3M9Q2X1A/title/1/3")
        let first = Snapshot(changes: [Self.change(3, replica: Fixtures.b)], cursor: next, more: true)
        let one = m.handle(.received(.snapshot(first)), now: 3)
        #expect(Array(one.prefix(2)) == [.send(.pull(Pull(cursor: next))), .applySnapshot(first, first: true)])
        let last = Snapshot(changes: [Self.change(4, replica: Fixtures.b)], cursor: Cursor("s1:9"), more: false)
        let two = m.handle(.received(.snapshot(last)), now: 4)
        #expect(Array(two.prefix(2)) == [.send(.pull(Pull(cursor: Cursor("s1:9")))), .applySnapshot(last, first: false)],
                "only the first page replaces the state; after the last, pulls go on from the position it stands for")
        let after = m.handle(.received(Self.page([Self.change(5, replica: Fixtures.b)], "s1:10", more: false)), now: 5)
        #expect(after.dropFirst().first == .apply(ChangesPage(changes: [Self.change(5, replica: Fixtures.b)], cursor: Cursor("s1:10"), more: false)))
        #expect(after.first == .send(.bye))
        #expect(Array(after.suffix(2).prefix(1)) == [.close])
    }

    @Test func aSnapshotCutOffGoesOnFromItsCursorWithoutReplacingTheStateAgain() {
        let stored = "s1:9/RSK-7K3M9Q2X1A/title/1/3"
        var (m, actions) = Self.welcomed(.once, cursor: stored)
        #expect(actions == [.send(.pull(Pull(cursor: Cursor(stored))))])
        let last = Snapshot(changes: [], cursor: Cursor("s1:9"), more: false)
        #expect(m.handle(.received(.snapshot(last)), now: 4).contains(.applySnapshot(last, first: false)))
    }

    @Test func aReadOnlyReplicaWithNoPositionPullsItsWholePageAsBefore() {
        var configuration = Self.configuration(.once)
        configuration.role = .pcpg
        configuration.region = "conwy"
        var m = Machine(configuration, cursor: nil, pending: 0)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg-conwy (analyst)")
        _ = m.handle(.received(.welcome(Welcome(identity: pcpg, limits: Self.limits, server: "s"))), now: 1)
        #expect(m.handle(.outboxRead([]), now: 2) == [.send(.pull(Pull(cursor: nil)))])
    }

    @Test func historyModeAsksForOneRecordPageByPageAndPushesNothing() throws {
        var m = Machine(Self.configuration(.history(Fixtures.risk)), cursor: Cursor("s1:4"), pending: 3)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        #expect(m.handle(.received(Self.welcome), now: 1)
                == [.rememberLimits(Self.limits), .send(.history(HistoryRequest(record: Fixtures.risk)))])
        let first = HistoryPage(record: Fixtures.risk, changes: [Self.change(1)], cursor: Cursor("h1:title/1/1"), more: true)
        #expect(m.handle(.received(.historyPage(first)), now: 2)
                == [.keepHistory(first), .send(.history(HistoryRequest(record: Fixtures.risk, cursor: Cursor("h1:title/1/1"))))])
        let last = HistoryPage(record: Fixtures.risk, changes: [Self.change(2)], cursor: Cursor("h1:title/1/2"), more: false, compacted: true)
        #expect(m.handle(.received(.historyPage(last)), now: 3).prefix(3) == [.keepHistory(last), .send(.bye), .close])
        var old = Machine(Self.configuration(.history(Fixtures.risk)), cursor: nil, pending: 0)
        _ = old.start(now: 0)
        _ = old.handle(.connected, now: 0)
        _ = old.handle(.received(Self.welcome), now: 1)
        let refused = old.handle(.received(.error(WireError(code: "unknown-message", message: "no", fatal: false))), now: 2)
        #expect(try #require(failure(refused)).message.contains("cannot send a record's history"))
    }

    @Test func anAnswerOutOfTurnStopsTheSync() throws {
        var (m, _) = Self.welcomed(.once)
        let actions = m.handle(.received(.ack(Ack(batch: "nobody", accepted: 0, duplicates: 0, author: "x"))), now: 5)
        #expect(try #require(failure(actions)).message.contains("out of turn"))
    }

    // MARK: Watch

    @Test func aWatchSubscribesPushesLocalEditsAndStampsTheirAuthor() {
        var m = Self.streaming()
        #expect(m.handle(.tick, now: 5) == [.readOutbox(after: nil, limit: 2)], "looks for local edits at once")
        #expect(m.handle(.outboxRead([]), now: 6) == [])
        #expect(m.handle(.tick, now: 100) == [], "not before the poll interval")
        #expect(m.handle(.tick, now: 205) == [.readOutbox(after: nil, limit: 2)])
        let mine = Self.change(7)
        #expect(m.handle(.outboxRead([mine]), now: 206) == [.send(.push(Push(batch: "\(Self.me)-1", changes: [mine])))])
        #expect(m.handle(.tick, now: 500) == [], "no second push while one is in flight")
        #expect(m.handle(.received(.ack(Ack(batch: "\(Self.me)-1", accepted: 1, duplicates: 0, author: "prestatyn (laptop)"))), now: 501)
                == [.acknowledge([mine.id], author: "prestatyn (laptop)")])
        let theirs = ChangesPage(changes: [Self.change(1, replica: Fixtures.b)], cursor: Cursor("s1:6"), more: false)
        #expect(m.handle(.received(.changes(theirs)), now: 502) == [.apply(theirs)])
        #expect(m.cursor == Cursor("s1:6"))
    }

    @Test func aRelayedChangeIsPushedThroughAFreshSyncSoItsStampComesBack() {
        var m = Self.streaming()
        _ = m.handle(.tick, now: 5)
        let actions = m.handle(.outboxRead([Self.change(2), Self.change(3, replica: Fixtures.c)]), now: 6)
        #expect(actions == [.send(.bye), .close, .connect(afterMillis: 0)])
        #expect(m.handle(.connected, now: 7) == [.sendHello])
    }

    @Test func aQuietLineIsPingedAndAMissingPongMeansReconnect() throws {
        var m = Self.streaming()
        _ = m.handle(.tick, now: 5)
        _ = m.handle(.outboxRead([]), now: 5)
        // Anything received keeps the line alive.
        _ = m.handle(.received(.pong(Ping(nonce: nil))), now: 600)
        #expect(m.handle(.tick, now: 1_500).contains(.send(.ping(Ping(nonce: "1")))) == false)
        let pinged = m.handle(.tick, now: 1_600)
        #expect(pinged.contains(.send(.ping(Ping(nonce: "1")))))
        _ = m.handle(.outboxRead([]), now: 1_600)
        #expect(!m.handle(.tick, now: 2_050).contains(.close), "the pong may still come")
        let dead = m.handle(.tick, now: 2_100)
        #expect(Array(dead.prefix(1)) == [.close])
        guard case .notice(.reconnecting(let reason, let wait)) = dead[1], case .connect(let after) = dead[2] else {
            Issue.record("\(dead)"); return
        }
        #expect(reason.contains("no pong"))
        #expect(wait == after)
        #expect((50...100).contains(after), "the first retry waits half to all of the base delay")
        // Late lines from the dead connection are ignored; the next connection resumes from the cursor.
        #expect(m.handle(.received(.pong(Ping(nonce: "1"))), now: 2_101) == [])
        #expect(m.handle(.connected, now: 2_200) == [.sendHello])
        #expect(m.handle(.received(Self.welcome), now: 2_201) == [.rememberLimits(Self.limits), .readOutbox(after: nil, limit: 2)])
        #expect(m.handle(.outboxRead([]), now: 2_202) == [.send(.pull(Pull(cursor: Cursor("s1:4"))))])
    }

    @Test func reconnectionBacksOffWithJitterAndResetsOnceSubscribed() {
        var m = Self.streaming()
        var waits: [Int64] = []
        var actions = m.handle(.connectionLost(.init(.lost, "the server closed the connection")), now: 10)
        for _ in 0..<6 {
            guard case .connect(let after) = actions.last else { Issue.record("\(actions)"); return }
            waits.append(after)
            actions = m.handle(.connectFailed(.init(.lost, "cannot reach the server (refused)")), now: 20)
        }
        for (attempt, wait) in waits.enumerated() {
            let ceiling = min(1_600, Int64(100) << Int64(attempt))
            #expect(wait >= ceiling / 2 && wait <= ceiling, "attempt \(attempt): \(wait) ms")
        }
        // After a good session the next loss starts from the base delay again.
        _ = m.handle(.connected, now: 30)
        _ = m.handle(.received(Self.welcome), now: 31)
        _ = m.handle(.outboxRead([]), now: 32)
        _ = m.handle(.received(Self.page([], "s1:4", more: false)), now: 33)
        _ = m.handle(.received(.subscribed(Subscribed(cursor: Cursor("s1:4")))), now: 34)
        let next = m.handle(.connectionLost(.init(.lost, "gone")), now: 40).last
        guard case .connect(let after) = next else { Issue.record("\(String(describing: next))"); return }
        #expect(after <= 100)
    }

    @Test func aServerShuttingDownIsRetriedButAnUnknownTokenIsNot() throws {
        var m = Self.streaming()
        let stopping = m.handle(.received(.error(WireError(code: "shutting-down", message: "stopping", fatal: true))), now: 10)
        #expect(stopping.first == .close)
        #expect(stopping.contains { if case .connect = $0 { true } else { false } })
        _ = m.handle(.connected, now: 500)
        let refused = m.handle(.received(.error(WireError(code: "unauthenticated", message: "revoked", fatal: true))), now: 501)
        #expect(try #require(failure(refused)).code == .unauthenticated)
    }

    @Test func aSessionThatOnlyReceivesPingsWithinHalfTheServersIdleTimeout() {
        var m = Machine(Self.configuration(.watch), cursor: Cursor("s1:4"), pending: 0)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let limits = WireLimits(maxChangesPerPush: 2, idleTimeoutMillis: 600)
        _ = m.handle(.received(.welcome(Welcome(identity: Self.identity, limits: limits, server: "s"))), now: 0)
        _ = m.handle(.outboxRead([]), now: 0)
        _ = m.handle(.received(Self.page([], "s1:4", more: false)), now: 1)
        _ = m.handle(.received(.subscribed(Subscribed(cursor: Cursor("s1:4")))), now: 2)
        _ = m.handle(.tick, now: 3)
        _ = m.handle(.outboxRead([]), now: 3)
        // Other practices' changes keep arriving, so the line is not quiet; but this client has
        // sent nothing since its subscribe, and the server would close it at 600 ms.
        _ = m.handle(.received(Self.page([], "s1:4", more: false)), now: 290)
        #expect(!m.handle(.tick, now: 290).contains(.send(.ping(Ping(nonce: "1")))))
        _ = m.handle(.received(Self.page([], "s1:4", more: false)), now: 301)
        #expect(m.handle(.tick, now: 302).contains(.send(.ping(Ping(nonce: "1")))))
    }

    /// A welcome announcing limits no server may have is refused before anything is pushed or
    /// remembered (the fifty-sixth session's review of a server against the client): a line of
    /// 12 bytes held back the whole outbox for good, a push of 0 read it as empty, and an
    /// enormous clock limit let a change stamped years ahead pin the replica's clock there.
    @Test(arguments: [
        WireLimits(maxLineBytes: 12), WireLimits(maxChangesPerPush: 0), WireLimits(maxChangesPerPage: 0),
        WireLimits(maxClockSkewMillis: 0), WireLimits(idleTimeoutMillis: -1),
    ])
    func aWelcomeWithLimitsNoServerMayHaveIsRefused(limits: WireLimits) throws {
        var m = Machine(Self.configuration(.once), cursor: Cursor("s1:4"), pending: 3)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        let actions = m.handle(.received(.welcome(Welcome(identity: Self.identity, limits: limits, server: "s"))), now: 0)
        #expect(!actions.contains { if case .rememberLimits = $0 { true } else { false } })
        #expect(!actions.contains { if case .readOutbox = $0 { true } else { false } })
        let error = try #require(failure(actions))
        #expect(error.code == .malformed && error.message.contains("limits no server may have"), "\(error.message)")
        // The bounds themselves are limits a server may have.
        #expect(WireLimits(maxLineBytes: 1_024, maxClockSkewMillis: 3_600_000).outOfRange == nil && WireLimits.default.outOfRange == nil)
        // A clock limit above an hour (a server of an earlier version) is taken, as an hour
        // (`SetAsideTests.aClockLimitStoredBeyondAnHourIsHeldToAnHour`).
        #expect(WireLimits(maxClockSkewMillis: .max).outOfRange == nil)
    }

    @Test func aServerThatNeverWelcomesIsADeadConnection() {
        var m = Machine(Self.configuration(.watch), cursor: nil, pending: 0)
        _ = m.start(now: 0)
        _ = m.handle(.connected, now: 0)
        #expect(m.handle(.tick, now: 1_400) == [])
        #expect(m.handle(.tick, now: 1_500).first == .close)
    }
}
