import ClusterSyncCore
import Foundation
import Synchronization
import Testing

/// Runs the built `clustersync` binary, as a person or a script would.
struct CLI {
    /// The folder holding the built executables: beside the test bundle, where SwiftPM puts every
    /// product of the build; `CLUSTERSYNC_BIN_DIR` overrides it.
    static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["CLUSTERSYNC_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !dir.path.hasSuffix("debug") && !dir.path.hasSuffix("release") && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: JSONValue? { try? JSONValue(parsing: stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    let directory: URL
    var environment: [String: String] = [:]

    /// Runs the binary and awaits its exit without holding a thread: its output is read as it
    /// comes (`ChildProcess`), so a command may write as much as it likes.
    @discardableResult
    func run(_ arguments: [String], binary: String = "clustersync") async throws -> Result {
        let process = try await start(arguments, binary: binary)
        let status = await process.exited()
        return Result(status: status, stdout: await process.output.readToEnd(), stderr: await process.errors.readToEnd())
    }

    func run(_ arguments: String..., binary: String = "clustersync") async throws -> Result {
        try await run(arguments, binary: binary)
    }

    /// How many members `field` holds on `records` together, as `show --json` reads them on
    /// `replica` (volume tests spread a set over records: one holds at most 1,000).
    func members(_ field: String, of records: [String], on replica: String) async throws -> Int {
        var count = 0
        for record in records {
            guard case .array(let members) = try await run("show", "--replica", replica, "--json", record).json?["fields"]?[field] else {
                Issue.record("\(record) has no \(field)")
                continue
            }
            count += members.count
        }
        return count
    }

    /// Starts the binary without waiting; its standard output and error are pipes, read as they
    /// come (`output`, `errors`). A long-running child keeps the end of each: `keepingAtMost`.
    func start(_ arguments: [String], binary: String = "clustersync", keepingAtMost limit: Int? = nil) async throws -> ChildProcess {
        let process = ChildProcess(keepingAtMost: limit)
        process.executableURL = CLI.binDirectory.appendingPathComponent(binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        if binary == "clustersyncd", environment["CLUSTERSYNCD_STORAGE"] == nil, let postgres = try await TestStorage.postgresURL(for: directory) {
            env["CLUSTERSYNCD_STORAGE"] = "postgres"
            env["CLUSTERSYNCD_POSTGRES_URL"] = postgres
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }
}

/// Which store the servers of the end-to-end tests use: SQLite, or PostgreSQL when
/// `CLUSTERSYNC_TEST_STORAGE=postgres` (Tests/run's second pass). Then each test folder's servers
/// share one new database on `CLUSTERSYNC_TEST_POSTGRES_URL`'s server, made with psql.
enum TestStorage {
    static let environment = ProcessInfo.processInfo.environment
    static let isPostgres = environment["CLUSTERSYNC_TEST_STORAGE"] == "postgres"
    /// The database of each test folder, made once: concurrent starts of one folder's servers
    /// wait for the same one.
    private static let made = Mutex<[String: Task<String, any Error>]>([:])

    /// The URL of the database for the servers run from `directory`; nil when testing SQLite.
    static func postgresURL(for directory: URL) async throws -> String? {
        guard isPostgres else { return nil }
        let making = made.withLock { made in
            if let known = made[directory.path] { return known }
            let making = Task { try await newDatabaseURL() }
            made[directory.path] = making
            return making
        }
        do {
            return try await making.value
        } catch {
            // Not made: the next server of this folder tries again.
            made.withLock { made in _ = made.removeValue(forKey: directory.path) }
            throw error
        }
    }

    /// Whether a PostgreSQL server is there for tests; under CI it must be.
    static var hasPostgres: Bool { environment["CLUSTERSYNC_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false }
    static let isCI = ["1", "true", "yes"].contains((environment["CI"] ?? "").lowercased())

    /// A new empty database on the test server, its URL.
    static func newDatabaseURL() async throws -> String {
        guard let server = environment["CLUSTERSYNC_TEST_POSTGRES_URL"], let url = URLComponents(string: server) else {
            throw ClusterSyncError(.invalidValue, "these tests need CLUSTERSYNC_TEST_POSTGRES_URL: run them through Tests/run, or eval \"$(Tests/postgres-up)\" first")
        }
        let name = "cs_e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await createDatabase(name, server: server)
        var database = url
        database.path = "/" + name
        return database.string!
    }

    static func createDatabase(_ name: String, server: String) async throws {
        let psql = ChildProcess()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", "-q", "-v", "ON_ERROR_STOP=1", server, "-c", "CREATE DATABASE \(name)"]
        psql.standardOutput = FileHandle.nullDevice
        psql.standardError = Pipe()
        guard try await psql.runToExit() == 0 else {
            let text = await psql.errors.readToEnd()
            throw ClusterSyncError(.internal, "psql could not create the test database \(name): \(text)")
        }
    }
}

/// A `Process` whose exit a test awaits instead of blocking its thread in `waitUntilExit()`.
/// swift-testing runs tests in parallel on the cooperative thread pool (two threads on a
/// two-core machine): a test blocked waiting for a child holds one of them, and two such tests
/// starve every in-process server of the other suites.
///
/// The termination handler is set when the process is made, before it runs (Foundation never
/// calls a handler set after the exit). Standard output and error that are pipes are read from
/// the moment it runs, each on a thread of its own (`PipeReader`): a pipe nobody reads fills at
/// 64 KB and then blocks the child's next write, so a child awaited before its output is read
/// would never exit.
final class ChildProcess: Process, @unchecked Sendable {
    private struct State {
        var exited = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var output: PipeReader?
        var errors: PipeReader?
    }

    private let state = Mutex(State())
    private let limit: Int?

    /// `keepingAtMost`: keep only the end of each output (about that many bytes), for a child
    /// that runs for the whole test; nil keeps all of it.
    init(keepingAtMost limit: Int? = nil) {
        self.limit = limit
        super.init()
        terminationHandler = { process in (process as! ChildProcess).didExit() }
    }

    override func run() throws {
        try super.run()
        let output = (standardOutput as? Pipe).map { PipeReader($0.fileHandleForReading, keepingAtMost: limit) }
        let errors = (standardError as? Pipe).map { PipeReader($0.fileHandleForReading, keepingAtMost: limit) }
        state.withLock { state in
            state.output = output
            state.errors = errors
        }
    }

    /// A watchdog for a child that might hang: SIGKILL once `seconds` have passed, unless it
    /// has exited by then. Never a bare `kill(pid, …)` later: by then the pid may be another
    /// process's (pid_max is 32,768 on these machines and a test run starts thousands of
    /// processes), and a stale watchdog can kill a later test's server in the middle of its test.
    func kill(ifRunningAfter seconds: Double) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in signal(SIGKILL) }
    }

    /// Sends `signal` unless the process has exited: a signal sent to the pid of a process
    /// that has exited may reach whatever process has that pid since.
    func signal(_ signal: Int32) {
        // Under the lock `didExit` takes once Foundation has reaped the child.
        state.withLock { state in
            if !state.exited { _ = Foundation.kill(processIdentifier, signal) }
        }
    }

    /// Runs the process and awaits its exit status.
    @discardableResult
    func runToExit() async throws -> Int32 {
        try run()
        return await exited()
    }

    /// Awaits the exit, without holding a thread, and returns `terminationStatus`.
    @discardableResult
    func exited() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.exited { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        return terminationStatus
    }

    private func didExit() {
        // Returns at once (the process has exited), and lets go of the run loop source that
        // `run()` made, which holds the process: without it no process would ever be freed, nor
        // its pipes closed, and a run of the tests would hold thousands of descriptors.
        waitUntilExit()
        let waiters = state.withLock { state in
            state.exited = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The reader of the standard output, which must be a pipe, once the process runs.
    var output: PipeReader { reader(\.output, "standardOutput") }
    /// The reader of the standard error, which must be a pipe, once the process runs.
    var errors: PipeReader { reader(\.errors, "standardError") }

    private func reader(_ path: KeyPath<State, PipeReader?> & Sendable, _ name: String) -> PipeReader {
        guard let reader = state.withLock({ $0[keyPath: path] }) else {
            preconditionFailure("\(name) of \(executableURL?.lastPathComponent ?? "?") is not a pipe, or the process has not run")
        }
        return reader
    }
}

/// Reads a pipe to its end on a thread of its own, as the writer writes; a test awaits what it
/// needs of it.
final class PipeReader: Sendable {
    private struct State {
        var data = Data()
        /// Bytes read in all (`data` may hold only the end of them).
        var received = 0
        var ended = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// `keepingAtMost`: once more than that is held, only the last half of it is kept.
    init(_ handle: FileHandle, keepingAtMost limit: Int? = nil) {
        Thread.detachNewThread { [self] in
            while case let data = handle.availableData, !data.isEmpty {
                let waiters = state.withLock { state in
                    state.data.append(data)
                    state.received += data.count
                    if let limit, state.data.count > limit { state.data = Data(state.data.suffix(limit / 2)) }
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
            }
            let waiters = state.withLock { state in
                state.ended = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// What has been read so far, and whether the pipe has ended.
    var snapshot: (data: Data, ended: Bool) { state.withLock { ($0.data, $0.ended) } }

    /// What has been read so far, as text.
    var text: String { String(decoding: snapshot.data, as: UTF8.self) }

    /// Awaits more than `count` bytes read in all, or the end of the pipe.
    func more(than count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.received > count || state.ended { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Everything the pipe brought, once its writers have closed it.
    func readToEnd() async -> String {
        while true {
            let (received, ended) = state.withLock { ($0.received, $0.ended) }
            if ended { return text }
            await more(than: received)
        }
    }

    /// Awaits text that satisfies `condition`, the end of the pipe, or `timeout`, and returns
    /// the text read by then.
    func text(until condition: (String) -> Bool, timeout: Duration) async -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (data, ended) = snapshot
            let text = String(decoding: data, as: UTF8.self)
            if condition(text) || ended || ContinuousClock.now >= deadline || Task.isCancelled { return text }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// What a test must undo that takes waiting (stop its servers and watchers, close its sessions,
/// drop its databases), where it would have written `defer`, which cannot await:
/// `Teardown.add { await server.stop() }`. A suite with the `.teardown` trait runs each test's
/// steps when the test ends, whether it passed, failed or threw: the last added first, as
/// `defer`s run.
struct Teardown: TestTrait, SuiteTrait, TestScoping {
    typealias Step = @Sendable () async -> Void

    final class Steps: Sendable {
        fileprivate let steps = Mutex<[Step]>([])
    }

    @TaskLocal private static var current: Steps?

    static func add(_ step: @escaping Step) {
        guard let current else {
            Issue.record("Teardown.add in a test whose suite lacks the .teardown trait: nothing would run this step")
            return
        }
        current.steps.withLock { $0.append(step) }
    }

    var isRecursive: Bool { true }

    /// Each test case's own steps; none around the suite itself.
    func scopeProvider(for test: Test, testCase: Test.Case?) -> Teardown? {
        testCase == nil ? nil : self
    }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let steps = Steps()
        do {
            try await Self.$current.withValue(steps) { try await function() }
        } catch {
            await run(steps)
            throw error
        }
        await run(steps)
    }

    private func run(_ steps: Steps) async {
        while let step = steps.steps.withLock({ $0.popLast() }) { await step() }
    }
}

extension Trait where Self == Teardown {
    /// Runs what each test handed to `Teardown.add` when it ends.
    static var teardown: Self { Teardown() }
}

/// What a teardown step is to use as it is when the test ends, for a test that replaces it as it
/// goes (restarts its server): a step cannot capture the test's `var` as `defer` did.
final class Current<Value: Sendable>: Sendable {
    private let current: Mutex<Value>

    init(_ value: Value) { current = Mutex(value) }

    var value: Value {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

extension Sequence {
    /// `map` with a transform that awaits, one element after another.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
