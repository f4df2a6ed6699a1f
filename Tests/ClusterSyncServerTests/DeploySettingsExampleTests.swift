import ClusterSyncCore
import ClusterSyncServer
import Configuration
import Foundation
import Testing

/// Deploy/clustersyncd.json is the example an operator copies, and Deploy/README.md's settings
/// table explains it: the example must hold the defaults (so copying it changes nothing by
/// surprise), and every key the server reads and every key in the example must be explained.
@Suite struct DeploySettingsExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let example = root.appendingPathComponent("Deploy/clustersyncd.json").path

    /// The keys ServerSettings and StoreSettings read: the first argument of each
    /// `c.int("KEY"`, `c.string("KEY"`, `c.strings("KEY"` or `c.optionalString("KEY"`.
    static func keysRead() throws -> Set<String> {
        var keys = Set<String>()
        for file in ["ServerSettings.swift", "StoreSettings.swift"] {
            let source = try String(contentsOf: root.appendingPathComponent("Sources/ClusterSyncServer/Server/\(file)"), encoding: .utf8)
            for call in ["c.int(\"", "c.string(\"", "c.strings(\"", "c.optionalString(\""] {
                for part in source.components(separatedBy: call).dropFirst() { keys.insert(String(part.prefix { $0 != "\"" })) }
            }
        }
        return keys
    }

    /// A URL file that is missing or empty is named with what to do (the operations audit: every
    /// such file was "cannot read the PostgreSQL URL"); its first line is the URL.
    @Test func aPostgresURLFileMissingOrEmptySaysWhich() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-url-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var settings = StoreSettings()
        settings.kind = .postgres
        settings.postgresURLFile = file("missing.url")
        #expect { try settings.postgresLocation() } throws: { ($0 as? ClusterSyncError)?.message.contains("missing.url (postgres.url-file) does not exist") == true }
        try "\n".write(toFile: file("empty.url"), atomically: true, encoding: .utf8)
        settings.postgresURLFile = file("empty.url")
        #expect { try settings.postgresLocation() } throws: { ($0 as? ClusterSyncError)?.message.contains("is empty: its first line must be the postgres:// URL") == true }
        try "postgres://clustersync@db.example:5432/clustersync?sslmode=require \nsecond line\n".write(toFile: file("node.url"), atomically: true, encoding: .utf8)
        settings.postgresURLFile = file("node.url")
        #expect(try settings.postgresLocation().host == "db.example")
    }

    /// A value of the wrong type or out of range is refused naming the setting: before, each
    /// read as its default (`"port": "7602x"` listened on 7443; a `tenantClientCA` of one string
    /// switched the per-Board CA check off; `--max-connections=-5` refused every sync).
    @Test func aSettingOfTheWrongTypeOrOutOfRangeIsRefusedNamingIt() async throws {
        let data = DataDirectory(path: "/var/lib/clustersyncd/node1")
        for (values, named) in [(["clustersyncd.port": ConfigValue(.string("7602x"), isSecret: false)], "setting port must be a whole number"),
                                (["clustersyncd.limits.maxConnections": ConfigValue(.int(-5), isSecret: false)], "setting limits.maxConnections must be from 1"),
                                (["clustersyncd.limits.maxConnections": ConfigValue(.string("2000"), isSecret: false)], "setting limits.maxConnections must be a whole number"),
                                (["clustersyncd.tls.tenantClientCA": ConfigValue(.string("t1=/etc/ca.pem"), isSecret: false)], "setting tls.tenantClientCA must be a list"),
                                (["clustersyncd.storage": ConfigValue(.int(1), isSecret: false)], "setting storage must be text"),
                                (["clustersyncd.limits.maxLineBytes": ConfigValue(.int(0), isSecret: false)], "setting limits.maxLineBytes must be from 1024")] {
            var settings = ServerSettings(data: data)
            let overrides = Dictionary(uniqueKeysWithValues: values.map { (AbsoluteConfigKey($0.key.split(separator: ".").map(String.init)), $0.value) })
            #expect { try settings.read(ConfigReader(providers: [InMemoryProvider(values: overrides)])) } throws: { error in
                (error as? ClusterSyncError)?.message.hasPrefix(named) == true
            }
        }
        var settings = ServerSettings(data: data)
        try settings.read(ConfigReader(providers: [InMemoryProvider(values: [
            AbsoluteConfigKey(["clustersyncd", "port"]): ConfigValue(.int(7600), isSecret: false),
            AbsoluteConfigKey(["clustersyncd", "tls", "tenantClientCA"]): ConfigValue(.stringArray(["t1=/etc/ca.pem"]), isSecret: false),
        ])]))
        #expect(settings.port == 7600 && settings.tenantClientCA == ["t1=/etc/ca.pem"])
    }

    @Test func theExampleSettingsHoldTheServersDefaults() async throws {
        let data = DataDirectory(path: "/var/lib/clustersyncd/node1")
        var read = ServerSettings(data: data)
        try read.read(ConfigReader(providers: [try await FileProvider<JSONSnapshot>(filePath: .init(Self.example))]))
        let defaults = ServerSettings(data: data)
        #expect(read.port == defaults.port)
        #expect(read.host == "0.0.0.0", "the example listens on every address, as a node behind a load balancer does")
        #expect(read.certificate == defaults.certificate && read.privateKey == defaults.privateKey && read.clientCA == defaults.clientCA)
        #expect(read.limits == defaults.limits)
        #expect(read.sessionLimits.helloTimeout == defaults.sessionLimits.helloTimeout)
        #expect(read.sessionLimits.maxBytesBeforeWelcome == defaults.sessionLimits.maxBytesBeforeWelcome)
        #expect(read.sessionLimits.writeTimeout == defaults.sessionLimits.writeTimeout)
        #expect(read.tlsHandshakeTimeoutSeconds == defaults.tlsHandshakeTimeoutSeconds)
        #expect(read.maxConnections == defaults.maxConnections)
        #expect(read.maxConnectionsPerCredential == defaults.maxConnectionsPerCredential)
        #expect(read.drainSeconds == defaults.drainSeconds)
        #expect(read.credentialDefaultExpiryDays == defaults.credentialDefaultExpiryDays)
        #expect(read.auditRetentionDays == defaults.auditRetentionDays)
        #expect(read.compactionHorizonDays == defaults.compactionHorizonDays)
    }

    /// Every key ServerSettings reads (its `forKey:` strings) and every key of the example is in
    /// Deploy/README.md's settings table, written as `key`.
    @Test func everySettingIsExplainedInTheDeployReadme() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("Deploy/README.md"), encoding: .utf8)
        var keys = try Self.keysRead()
        #expect(keys.contains("limits.maxConnections") && keys.contains("postgres.url"), "the keys are no longer read as c.int(\"KEY\"…): update this test")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.example))) as? [String: Any]
        func leaves(_ value: Any, _ path: String) -> [String] {
            guard let object = value as? [String: Any] else { return [path] }
            return object.flatMap { leaves($0.value, path.isEmpty ? $0.key : "\(path).\($0.key)") }
        }
        let example = leaves(try #require(json?["clustersyncd"]), "")
        #expect(example.count >= 20, "the example lost keys: \(example)")
        keys.formUnion(example)
        for key in keys.sorted() {
            #expect(readme.contains("`\(key)`"), "Deploy/README.md does not explain the setting \(key)")
        }
    }

    /// A settings file is refused when it holds a key nothing reads: at its top level (the
    /// README's `"limits": {…}` copied as it was, which the server ignored and ran on its
    /// defaults), or under `clustersyncd` a section no setting has. The sections checked are
    /// those the server reads, and the example passes.
    @Test func aSettingNothingReadsIsRefusedNamingIt() throws {
        #expect(try Self.keysRead() == SettingsFile.keys)
        try SettingsFile.check(Data(contentsOf: URL(fileURLWithPath: Self.example)), path: "example")
        try SettingsFile.check(Data("{}".utf8), path: "empty")
        // Dotted names read as swift-configuration reads them, nested or not.
        try SettingsFile.check(Data(#"{"clustersyncd": {"postgres.url-file": "/etc/pg", "limits.maxConnections": 17}}"#.utf8), path: "dotted")
        try SettingsFile.check(Data(#"{"clustersyncd.limits.maxConnections": 17, "clustersyncd": {}}"#.utf8), path: "dotted")
        for (text, named) in [(#"{"limits": {"idleTimeoutSeconds": 7}}"#, #""limits.idleTimeoutSeconds", which is not under "clustersyncd""#),
                              (#"{"clustersyncd": {"port": 19404}, "port": 19404}"#, #""port", which is not under"#),
                              (#"{"clustersyncd": {"limit": {"idleTimeoutSeconds": 7}}}"#, #""clustersyncd.limit.idleTimeoutSeconds", which is no setting"#),
                              (#"{"clustersyncd": {"limits": {"idleTimeout": 5}}}"#, #""clustersyncd.limits.idleTimeout", which is no setting"#),
                              (#"{"clustersyncd": 7443}"#, #""clustersyncd", which is not under"#),
                              ("[1]", "is not a JSON object")] {
            let error = #expect(throws: ClusterSyncError.self) { try SettingsFile.check(Data(text.utf8), path: "node1.json") }
            #expect(error?.message.contains(named) == true && error?.message.contains("node1.json") == true, "\(text): \(error?.message ?? "")")
        }
    }
}
