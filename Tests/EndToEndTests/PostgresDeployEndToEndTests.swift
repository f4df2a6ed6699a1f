import Foundation
import Testing

/// The two suites that run Deploy/postgres-setup.sh one after the other: it creates the
/// cluster-wide roles `clustersync_owner` and `clustersync_app` and gives each a password, so two
/// runs at once against one PostgreSQL fail (`role "clustersync_owner" already exists`) or change
/// each other's passwords.
@Suite(.serialized) enum PostgresRoleSetUp {}

extension PostgresRoleSetUp {
    /// Deploy/postgres-setup.sh, postgres-backup.sh and postgres-restore.sh against a real
    /// PostgreSQL (the throwaway one `Tests/postgres-up` starts; CLUSTERSYNC_TEST_POSTGRES_URL names
    /// it, as a superuser). Skipped with a note without it, except under CI=1.
    @Suite(.serialized, .teardown) struct PostgresDeployEndToEndTests {
        let dir: URL
        let admin: [String: String]

        static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy")

        /// libpq's environment for the superuser of the test server, or nil when there is none.
        static var superuser: [String: String]? {
            guard let text = ProcessInfo.processInfo.environment["CLUSTERSYNC_TEST_POSTGRES_URL"],
                  let url = URLComponents(string: text), let host = url.host, let user = url.user else { return nil }
            return ["PGHOST": host, "PGPORT": String(url.port ?? 5432), "PGUSER": user, "PGDATABASE": "postgres", "PGSSLMODE": "disable"]
        }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pgdeploy-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            admin = Self.superuser ?? [:]
        }

        struct Run {
            var status: Int32
            var out: String
            var err: String
        }

        @discardableResult
        func run(_ executable: String, _ arguments: [String], environment: [String: String]) async throws -> Run {
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = dir
            var env = ProcessInfo.processInfo.environment
            for key in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE", "PGPASSWORD", "PGPASSFILE"] { env[key] = nil }
            env.merge(environment) { _, new in new }
            process.environment = env
            let out = dir.appendingPathComponent("out-\(UUID().uuidString)"), err = dir.appendingPathComponent("err-\(UUID().uuidString)")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            FileManager.default.createFile(atPath: err.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try await process.runToExit()
            return Run(status: process.terminationStatus, out: try String(contentsOf: out, encoding: .utf8), err: try String(contentsOf: err, encoding: .utf8))
        }

        func script(_ name: String, _ arguments: String...) async throws -> Run {
            let result = try await run("/bin/bash", [Self.deploy.appendingPathComponent(name).path] + arguments, environment: admin)
            #expect(result.status == 0, "\(name) \(arguments.joined(separator: " ")): \(result.err)")
            return result
        }

        /// psql as the role whose URL is in `file` (from postgres-setup.sh).
        func sql(as file: String, _ statement: String) async throws -> Run {
            let url = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try await run("/usr/bin/psql", ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", statement, url], environment: [:])
        }

        func dropDatabases(_ names: [String]) async throws {
            for name in names {
                try await run("/usr/bin/psql", ["-X", "-q", "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], environment: admin)
            }
        }

        @Test func theSetUpScriptGivesTheNodesRowsAndNotStructureAndABackupRestoresIntoANewDatabase() async throws {
            guard Self.superuser != nil else {
                #expect(ProcessInfo.processInfo.environment["CI"] != "1", "CLUSTERSYNC_TEST_POSTGRES_URL is not set: Tests/run starts PostgreSQL")
                print("skipped: no CLUSTERSYNC_TEST_POSTGRES_URL (eval \"$(Tests/postgres-up)\" to run it)")
                return
            }
            let suffix = String(UUID().uuidString.prefix(8)).lowercased()
            let database = "cs_deploy_\(suffix)", restored = "cs_restored_\(suffix)"
            Teardown.add { try? await dropDatabases([database, restored]) }
            let host = admin["PGHOST"]!, port = admin["PGPORT"]!
            try await script("postgres-setup.sh", "--database", database, "--host", host, "--port", port, "--sslmode", "disable", "--out", dir.path)
            let owner = "\(database).owner.postgres-url", app = "\(database).app.postgres-url"
            for file in [owner, app] {
                let mode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(file).path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file) must be readable by its owner only")
            }

            // What a migration does, the owner may; what a node does with rows, the app role may.
            #expect(try await sql(as: owner, "CREATE TABLE log (seq BIGSERIAL PRIMARY KEY, change_json TEXT NOT NULL); CREATE TABLE tenant (name TEXT PRIMARY KEY, last_seq BIGINT NOT NULL)").status == 0)
            #expect(try await sql(as: app, "INSERT INTO tenant VALUES ('bcuhb', 2); INSERT INTO log (change_json) VALUES ('a'), ('b')").status == 0)
            #expect(try await sql(as: app, "SELECT count(*) FROM log").out.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            // And nothing else.
            for statement in ["CREATE TABLE evil (x INT)", "DROP TABLE log", "TRUNCATE log", "ALTER TABLE log ADD COLUMN x INT",
                              "CREATE TEMP TABLE t (x INT)", "CREATE TABLE public.evil (x INT)", "CREATE SCHEMA evil"] {
                let refused = try await sql(as: app, statement)
                #expect(refused.status != 0, "clustersync_app must not be able to: \(statement)")
                #expect(refused.err.contains("permission denied") || refused.err.contains("must be owner"), "\(statement): \(refused.err)")
            }

            // A second run changes nothing and keeps the passwords.
            let before = try String(contentsOf: dir.appendingPathComponent(app), encoding: .utf8)
            try await script("postgres-setup.sh", "--database", database, "--host", host, "--port", port, "--sslmode", "disable", "--out", dir.path)
            #expect(try String(contentsOf: dir.appendingPathComponent(app), encoding: .utf8) == before)
            #expect(try await sql(as: app, "SELECT count(*) FROM log").out.trimmingCharacters(in: .whitespacesAndNewlines) == "2")

            // Backup while it is in use, restore into a new database, carry on there.
            let backup = try await script("postgres-backup.sh", dir.appendingPathComponent(owner).path, dir.appendingPathComponent("b.dump").path)
            #expect(backup.out.contains("bcuhb up to seq 2"), "\(backup.out)")
            #expect(!backup.out.contains(before.split(separator: ":")[2].prefix(48)), "the password must not be printed")
            try await script("postgres-setup.sh", "--database", restored, "--host", host, "--port", port, "--sslmode", "disable", "--out", dir.path)
            let restore = try await script("postgres-restore.sh", dir.appendingPathComponent("\(restored).owner.postgres-url").path, dir.appendingPathComponent("b.dump").path)
            #expect(restore.out.contains("bcuhb up to seq 2"), "\(restore.out)")
            let restoredApp = "\(restored).app.postgres-url"
            #expect(try await sql(as: restoredApp, "INSERT INTO log (change_json) VALUES ('c') RETURNING seq").out.trimmingCharacters(in: .whitespacesAndNewlines) == "3",
                    "the restored sequence must carry on after the backup's last row")
            #expect(try await sql(as: restoredApp, "DROP TABLE log").status != 0)
            // Restoring twice into the same database is refused.
            let again = try await run("/bin/bash", [Self.deploy.appendingPathComponent("postgres-restore.sh").path,
                                              dir.appendingPathComponent("\(restored).owner.postgres-url").path, dir.appendingPathComponent("b.dump").path], environment: admin)
            #expect(again.status == 1)
            #expect(again.err.contains("restore into a new database"), "\(again.err)")
        }
    }
}
