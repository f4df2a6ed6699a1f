import ClusterSyncCore
import Configuration
import Foundation

/// The JSON settings file (`--config`, `$CLUSTERSYNCD_CONFIG` or DATA/clustersyncd.json), checked
/// before swift-configuration reads it. swift-configuration reads only the keys asked for, so a
/// setting put at the top level (`{"limits": {…}}`, not under `"clustersyncd"`) or misspelt
/// (`"idleTimeout"`) was ignored without a word, and the server ran on its defaults (README
/// audit, forty-third session): such a file is refused, naming the key.
public enum SettingsFile {
    /// Every setting `ServerSettings.read` and `StoreSettings.read` ask for, under `clustersyncd`
    /// (a test holds this list to their `forKey:` names).
    public static let keys: Set<String> = [
        "host", "port", "tls.certificate", "tls.key", "tls.clientCA", "tls.tenantClientCA",
        "limits.maxLineBytes", "limits.maxChangesPerPush", "limits.maxChangesPerPage", "limits.maxClockSkewSeconds",
        "limits.idleTimeoutSeconds", "limits.helloTimeoutSeconds", "limits.tlsHandshakeTimeoutSeconds", "limits.maxBytesBeforeWelcome",
        "limits.writeTimeoutSeconds", "limits.maxConnections", "limits.maxConnectionsPerCredential",
        "drainSeconds", "credentials.defaultExpiryDays", "audit.retentionDays", "compaction.horizon-days",
        "storage", "postgres.url", "postgres.url-file", "postgres.maxConnections",
    ]

    /// A provider reading `path`, once its keys are checked.
    public static func provider(_ path: String) async throws -> FileProvider<JSONSnapshot> {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterSyncError(.invalidValue, "cannot read the settings file \(path): check that it exists and is readable", field: "config")
        }
        try check(data, path: path)
        return try await FileProvider<JSONSnapshot>(filePath: .init(path))
    }

    /// Refuses a file that is not a JSON object, or that holds a setting no key names. Keys are
    /// read as swift-configuration reads them: nested objects and dotted names alike
    /// (`{"clustersyncd": {"postgres.url-file": …}}` is `clustersyncd.postgres.url-file`).
    public static func check(_ data: Data, path: String) throws {
        let example = #"{"clustersyncd": {"port": 7443, "limits": {"idleTimeoutSeconds": 300}}}"#
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ClusterSyncError(.invalidValue, "the settings file \(path) is not a JSON object: settings look like \(example)", field: "config")
        }
        for key in leaves(top, path: []).map({ $0.joined(separator: ".") }).sorted() {
            guard key.hasPrefix("clustersyncd.") else {
                throw ClusterSyncError(.invalidValue, """
                    the settings file \(path) has "\(key.prefix(80))", which is not under "clustersyncd" and is not read: settings \
                    go under "clustersyncd", as in \(example)
                    """, field: "config")
            }
            guard keys.contains(String(key.dropFirst("clustersyncd.".count))) else {
                throw ClusterSyncError(.invalidValue, """
                    the settings file \(path) has "\(key.prefix(80))", which is no setting: check its spelling against \
                    Deploy/clustersyncd.json, which has every one
                    """, field: "config")
            }
        }
    }

    /// Each value's key path, dotted names split: arrays and other values are leaves.
    static func leaves(_ object: [String: Any], path: [String]) -> [[String]] {
        object.flatMap { key, value -> [[String]] in
            let here = path + key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard let nested = value as? [String: Any] else { return [here] }
            return nested.isEmpty ? [] : leaves(nested, path: here)
        }
    }
}
