import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// Signed changes through the real binaries (PROTOCOL.md §6.2): `clustersync` replicas with their
/// own keys, `clustersyncd` on loopback TLS, and raw sessions over `openssl s_client` for what
/// no honest client sends (a forged signature, a second key for a replica id).
@Suite(.serialized, .teardown) struct SignedChangesEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    typealias HeldSession = CredentialLifecycleTests.HeldSession

    func line(_ message: WireMessage) -> String { String(WireCodec.encode(message).dropLast()) }

    /// A replica file's id and signing key, read from the file as the replica keeps them.
    func identity(of file: String) throws -> (ReplicaID, ReplicaSigningKey) {
        let queue = try DatabaseQueue(path: base.dir.appendingPathComponent(file).path)
        defer { try? queue.close() }
        let (text, seed) = try queue.read { db in
            (try String.fetchOne(db, sql: "SELECT replica_id FROM identity"), try Data.fetchOne(db, sql: "SELECT private_key FROM signing_key"))
        }
        let replica = try #require(text.flatMap(ReplicaID.init))
        return (replica, try ReplicaSigningKey(rawRepresentation: try #require(seed)))
    }

    func token(of practice: String) throws -> String {
        try String(contentsOf: base.dir.appendingPathComponent("\(practice).token"), encoding: .utf8)
    }

    func change(_ counter: Int64, by replica: ReplicaID, _ value: String) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)),
               record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"),
               field: "title", value: .string(value), author: "Manager, rhyl")
    }

    /// A session of rhyl's replica, with its token and key, that has been welcomed.
    func welcomedSession(_ server: Server, replica: ReplicaID, key: ReplicaPublicKey) async throws -> HeldSession {
        let session = try HeldSession(port: server.port, in: base.dir)
        session.send(line(.hello(Hello(replica: replica, token: try token(of: "rhyl"), key: key))))
        let welcome = try #require(await session.next())
        #expect(welcome["type"] == .string("welcome"), "\(welcome)")
        return session
    }

    /// A change whose signature does not match its maker's registered key is refused with
    /// `bad-signature` naming it, whatever session pushes it; so is an unsigned one. The session
    /// goes on, and the genuine change is accepted.
    @Test func aForgedSignatureIsRefused() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.addRisk(rhyl, "title=Estates lease")
        _ = try await base.sync(rhyl)
        let (replica, key) = try identity(of: rhyl)

        let session = try await welcomedSession(server, replica: replica, key: key.publicKey)
        Teardown.add { await session.close() }
        let genuine = ChangeSignature.signed(change(100, by: replica, "Locum cover"), with: key)
        var altered = genuine
        altered.value = .string("Locum cover cancelled")
        let otherKey = ChangeSignature.signed(change(101, by: replica, "Locum cover"), with: ReplicaSigningKey())
        var unsigned = change(102, by: replica, "Locum cover")
        unsigned.sig = nil
        for (n, forged) in [altered, otherKey, unsigned].enumerated() {
            session.send(line(.push(Push(batch: "b\(n)", changes: [forged]))))
            let refusal = try #require(await session.next())
            #expect(refusal["code"] == .string("bad-signature"), "\(refusal)")
            #expect(refusal["fatal"] == .bool(false) && refusal["change"] == .string(forged.id.description), "\(refusal)")
        }
        session.send(line(.push(Push(batch: "good", changes: [genuine]))))
        let ack = try #require(await session.next())
        #expect(ack["type"] == .string("ack") && ack["accepted"] == .int(1), "\(ack)")
        #expect(ack["author"] == .string("rhyl (laptop)"))
        session.send(line(.bye))

        // Nothing forged reached the other practices.
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        _ = try await base.sync(prestatyn)
        let history = try #require(try await cli.run("history", "--replica", prestatyn, "--json", "RSK-7K3M9Q2X1A").json)
        #expect(!history.canonicalText.contains("cancelled"), "\(history)")
        #expect(history.canonicalText.contains("Locum cover"))
    }

    /// A replica id belongs to the first key presented for it: a hello with another key is
    /// refused (`key-mismatch`, fatal), and the real client says so.
    @Test func aSecondKeyForTheSameReplicaIsRefused() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.addRisk(rhyl, "title=Estates lease")
        _ = try await base.sync(rhyl)
        let (replica, key) = try identity(of: rhyl)

        let session = try HeldSession(port: server.port, in: base.dir)
        Teardown.add { await session.close() }
        session.send(line(.hello(Hello(replica: replica, token: try token(of: "rhyl"), key: ReplicaSigningKey().publicKey))))
        let refusal = try #require(await session.next())
        #expect(refusal["code"] == .string("key-mismatch") && refusal["fatal"] == .bool(true), "\(refusal)")
        #expect(refusal["message"]?.stringValue?.contains("registered on this server with another key") == true, "\(refusal)")
        #expect(await session.next() == nil, "the server closes the session")

        // The registered key still opens sessions.
        let again = try await welcomedSession(server, replica: replica, key: key.publicKey)
        again.send(line(.bye))
        #expect(await again.next() == nil)
        await again.close()

        // The real client with a replica file whose key was replaced is refused with the same code.
        let queue = try DatabaseQueue(path: base.dir.appendingPathComponent(rhyl).path)
        try await queue.write { db in
            try db.execute(sql: "UPDATE signing_key SET private_key = ?", arguments: [Data(ReplicaSigningKey().rawRepresentation)])
        }
        try queue.close()
        let sync = try await cli.run("sync", "--replica", rhyl)
        #expect(sync.status != 0)
        #expect(sync.stderr.contains("key-mismatch"), "\(sync.stderr)")
    }

    /// A change made offline on rhyl's laptop and handed to prestatyn with `merge` keeps its
    /// maker's person and practice when prestatyn pushes it: rhyl's key proves it. Every replica
    /// shows the same, and there is no "via".
    @Test func aRelayedChangeKeepsItsMakersPerson() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        _ = try await base.addRisk(rhyl, "title=Estates lease")
        _ = try await base.sync(rhyl)
        // Offline: rhyl records a risk and hands its file to prestatyn, which syncs first.
        let risk = try await base.addRisk(rhyl, "title=Flu clinic staffing")
        #expect(try await cli.run("merge", "--replica", prestatyn, "--from", rhyl).status == 0)
        let relayed = try await base.sync(prestatyn)
        #expect(relayed.stdout.contains("pushed") && !relayed.stdout.contains("wait"), "\(relayed.stdout)")
        _ = try await base.sync(rhyl)
        _ = try await base.sync(prestatyn)

        let histories = try await [prestatyn, rhyl].asyncMap { try #require(try await cli.run("history", "--replica", $0, "--json", risk).json) }
        #expect(histories[0] == histories[1])
        guard case .array(let entries) = histories[0]["history"], let entry = entries.first else { Issue.record("\(histories[0])"); return }
        #expect(entry["author"] == .string("rhyl (laptop)"), "\(entry)")
        #expect(entry["person"] == .string("laptop") && entry["practice"] == .string("rhyl"), "\(entry)")
        #expect(!histories[0].canonicalText.contains(" via "))
        let text = try await cli.run("history", "--replica", prestatyn, risk).stdout
        #expect(text.contains("rhyl (laptop)"), "\(text)")
        for file in [prestatyn, rhyl] {
            #expect(try await cli.run("status", "--replica", file, "--json").json?["pending"] == .int(0))
        }
    }

    /// A server; rhyl's replica, never synced, with a risk; prestatyn's, with rhyl's file merged in.
    func rhylsRiskMergedIntoPrestatyn() async throws -> (rhyl: String, prestatyn: String, risk: String) {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        let risk = try await base.addRisk(rhyl, "title=Flu clinic staffing")
        #expect(try await cli.run("merge", "--replica", prestatyn, "--from", rhyl).status == 0)
        return (rhyl, prestatyn, risk)
    }

    /// A replica that has never synced has no registered key, so no one else may vouch for its
    /// changes: prestatyn keeps them queued and says so, and pushes its own; once rhyl syncs
    /// itself they reach everyone with rhyl's name, and leave prestatyn's queue.
    @Test func aRelayWaitsForItsMakerToSyncOnce() async throws {
        let (rhyl, prestatyn, risk) = try await rhylsRiskMergedIntoPrestatyn()
        _ = try await base.addRisk(prestatyn, "title=Estates lease")
        let (maker, _) = try identity(of: rhyl)

        let made = try #require(try await cli.run("status", "--replica", rhyl, "--json").json?["pending"]?.intValue)
        let own = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"]?.intValue) - made
        let first = try await base.sync(prestatyn)
        // Its own changes went; rhyl's wait.
        #expect(first.stdout.contains("pushed \(own) change"), "\(first.stdout)")
        #expect(first.stdout.contains("\(made) change\(made == 1 ? "" : "s") by replica \(maker) wait for that replica to sync once"), "\(first.stdout)")
        let status = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json)
        guard case .array(let waiting) = status["waitingRelays"] else { Issue.record("\(status)"); return }
        #expect(waiting.map { $0["maker"] } == [.string(maker.rawValue)] && waiting.first?["changes"] == .int(made), "\(status)")
        #expect(status["pending"] == .int(made))
        #expect(try await cli.run("status", "--replica", prestatyn).stdout.contains("wait for that replica to sync once"))

        _ = try await base.sync(rhyl)
        let second = try await base.sync(prestatyn)
        #expect(!second.stdout.contains("wait"), "\(second.stdout)")
        #expect(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"] == .int(0))
        let history = try #require(try await cli.run("history", "--replica", prestatyn, "--json", risk).json)
        #expect(history.canonicalText.contains("\"author\":\"rhyl (laptop)\""), "\(history)")
    }

    /// Prestatyn edits a risk it merged from rhyl's file before rhyl synced it: the server has not
    /// been given rhyl's change, so prestatyn's edit over it waits (held back,
    /// `supersedes-unsynced`: a change may supersede another replica's only as far as the server
    /// holds them, `SupersessionReach`) and goes at prestatyn's first sync after rhyl's.
    @Test func anEditOverAMergedChangeWaitsUntilItsMakerSyncsIt() async throws {
        let (rhyl, prestatyn, risk) = try await rhylsRiskMergedIntoPrestatyn()
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, risk, "title=Flu clinic staffing, winter").status == 0)

        let first = try await base.sync(prestatyn)
        #expect(first.stdout.contains("held back 1 change made over another replica's change the server has not been given yet"), "\(first.stdout)")
        let status = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json)
        guard case .array(let held) = status["heldBack"] else { Issue.record("\(status)"); return }
        #expect(held.count == 1 && held.first?["code"] == .string("supersedes-unsynced"), "\(status)")

        _ = try await base.sync(rhyl)
        let second = try await base.sync(prestatyn)
        #expect(!second.stdout.contains("held back"), "\(second.stdout)")
        #expect(try await cli.run("status", "--replica", prestatyn, "--json").json?["heldBack"] == .array([]))
        _ = try await base.sync(rhyl)
        let shown = try #require(try await cli.run("risk", "show", "--replica", rhyl, risk, "--json").json)
        #expect(shown["fields"]?["title"] == .string("Flu clinic staffing, winter"), "\(shown)")
    }

    /// The same with prestatyn watching: its watch holds the edit back, then pushes it as soon
    /// as a pull brings the change it waited for, without a restart. (It waited for the watch to
    /// be restarted before: the convergence test found a watching replica that never converged.)
    @Test func aWatchPushesAHeldBackEditWhenTheChangeItWaitedForArrives() async throws {
        let (rhyl, prestatyn, risk) = try await rhylsRiskMergedIntoPrestatyn()
        let watcher = try WatchEndToEndTests.startWatch(prestatyn, in: base.dir)
        Teardown.add { if watcher.isRunning { watcher.signal(SIGTERM); await watcher.exited() } }
        func status() async throws -> JSONValue? { try await cli.run("status", "--replica", prestatyn, "--json").json }
        func waitUntil(_ what: String, _ condition: (JSONValue?) -> Bool) async throws {
            let deadline = Date(timeIntervalSinceNow: 30)
            var last = try await status()
            while !condition(last), Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                last = try await status()
            }
            #expect(condition(last), "\(what): \(last.map { "\($0)" } ?? "no status")")
        }
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, risk, "title=Flu clinic staffing, winter").status == 0)
        try await waitUntil("the edit held back") {
            guard case .array(let held) = $0?["heldBack"] else { return false }
            return held.count == 1 && held.first?["code"] == .string("supersedes-unsynced")
        }

        _ = try await base.sync(rhyl)
        try await waitUntil("the edit pushed by the watch") { $0?["heldBack"] == .array([]) && $0?["pending"] == .int(0) }
        _ = try await base.sync(rhyl)
        let shown = try #require(try await cli.run("risk", "show", "--replica", rhyl, risk, "--json").json)
        #expect(shown["fields"]?["title"] == .string("Flu clinic staffing, winter"), "\(shown)")
        #expect(watcher.isRunning, "the watch stopped")
    }

    /// Rhyl's file is merged into a new laptop's replica before either syncs; rhyl then syncs.
    /// The laptop's first sync cannot push rhyl's changes at first (it does not yet know rhyl's
    /// key is registered) and learns it from the pull: it pushes them in the same sync, so none
    /// is left pending with no reason given (before, a superseded one was, until the next sync).
    @Test func relaysTheFirstPullShowsAreRegisteredGoInTheSameSync() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        let risk = try await base.addRisk(rhyl, "title=Flu clinic staffing")
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "title=Flu clinic staffing, winter").status == 0)
        #expect(try await cli.run("merge", "--replica", prestatyn, "--from", rhyl).status == 0)
        _ = try await base.sync(rhyl)
        let first = try await base.sync(prestatyn)
        #expect(first.stdout.contains("already there"), "the superseded title went as a duplicate: \(first.stdout)")
        let status = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json)
        #expect(status["pending"] == .int(0) && status["waitingRelays"] == .array([]), "\(status)")
        let second = try await base.sync(prestatyn)
        #expect(second.stdout.hasPrefix("pushed 0 changes, pulled 0"), "\(second.stdout)")
    }

    /// A replica file copied to a second laptop, both edited and both synced: the copy's change
    /// with a number the first file already used is refused (`invalid-value`) and held back on
    /// the copy with why, instead of counted as a duplicate and lost without a word.
    @Test func aCopiedReplicaFileEditedOnBothLaptopsLosesNothingSilently() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let desk = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.addRisk(desk, "title=Winter pressures")
        _ = try await base.sync(desk)
        try FileManager.default.copyItem(at: base.dir.appendingPathComponent(desk), to: base.dir.appendingPathComponent("laptop.sqlite"))

        _ = try await base.addRisk(desk, "title=Locum cover")
        _ = try await base.sync(desk)
        _ = try await base.addRisk("laptop.sqlite", "title=Flu clinics")
        let synced = try await cli.run("sync", "--replica", "laptop.sqlite")
        #expect(synced.stdout.contains("held back") || synced.stderr.contains("held back"), "\(synced.stdout)\(synced.stderr)")
        let status = try #require(try await cli.run("status", "--replica", "laptop.sqlite", "--json").json)
        guard case .array(let held) = status["heldBack"], let first = held.first else {
            Issue.record("nothing held back: \(status)")
            return
        }
        #expect(held.count == 2, "the edit's two changes (title, status): \(held)")
        #expect(first["code"] == .string("invalid-value") && first["reason"]?.stringValue?.contains("received before with other contents") == true,
                "\(first)")
        // The desk's edit stands on the server; the laptop's stays on the laptop, shown as held back.
        _ = try await base.sync(desk)
        let onDesk = try await cli.run("risk", "list", "--replica", desk).stdout
        #expect(onDesk.contains("Locum cover") && !onDesk.contains("Flu clinics"), "\(onDesk)")
        #expect(try await cli.run("risk", "list", "--replica", "laptop.sqlite").stdout.contains("Flu clinics"))
    }
}
