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

    @Test func theExampleSettingsHoldTheServersDefaults() async throws {
        let data = DataDirectory(path: "/var/lib/clustersyncd/node1")
        var read = ServerSettings(data: data)
        read.read(ConfigReader(providers: [try await FileProvider<JSONSnapshot>(filePath: .init(Self.example))]))
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
        let source = try String(contentsOf: Self.root.appendingPathComponent("Sources/ClusterSyncServer/Server/ServerSettings.swift"), encoding: .utf8)
        var keys = Set<String>()
        for part in source.components(separatedBy: "forKey: \"").dropFirst() {
            keys.insert(String(part.prefix { $0 != "\"" }))
        }
        #expect(keys.contains("limits.maxConnections"), "the keys are no longer read with forKey: update this test")
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
        var read = Set<String>()
        for file in ["ServerSettings.swift", "StoreSettings.swift"] {
            let source = try String(contentsOf: Self.root.appendingPathComponent("Sources/ClusterSyncServer/Server/\(file)"), encoding: .utf8)
            for part in source.components(separatedBy: "forKey: \"").dropFirst() {
                read.insert(String(part.prefix { $0 != "\"" }))
            }
        }
        #expect(read == SettingsFile.keys)
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
