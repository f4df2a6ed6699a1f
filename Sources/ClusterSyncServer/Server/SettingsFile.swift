import ClusterSyncCore
import Configuration
import Foundation

/// The JSON settings file (`--config`, `$CLUSTERSYNCD_CONFIG` or DATA/clustersyncd.json), checked
/// before swift-configuration reads it. swift-configuration reads only the keys asked for, so a
/// setting put at the top level (`{"limits": {…}}`, not under `"clustersyncd"`) or misspelt under
/// it was ignored without a word, and the server ran on its defaults (README audit, forty-third
/// session): such a file is refused, naming the key.
public enum SettingsFile {
    /// The settings `ServerSettings.read` and `StoreSettings.read` know, under `clustersyncd`.
    public static let sections: Set<String> = [
        "host", "port", "tls", "limits", "drainSeconds", "credentials", "audit", "storage", "postgres", "compaction",
    ]

    /// A provider reading `path`, once its keys are checked.
    public static func provider(_ path: String) async throws -> FileProvider<JSONSnapshot> {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterSyncError(.invalidValue, "cannot read the settings file \(path): check that it exists and is readable", field: "config")
        }
        try check(data, path: path)
        return try await FileProvider<JSONSnapshot>(filePath: .init(path))
    }

    /// Refuses a file that is not a JSON object holding `clustersyncd` alone (or nothing), or
    /// whose `clustersyncd` holds a key no setting has.
    public static func check(_ data: Data, path: String) throws {
        let example = #"{"clustersyncd": {"port": 7443, "limits": {"idleTimeoutSeconds": 300}}}"#
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ClusterSyncError(.invalidValue, "the settings file \(path) is not a JSON object: settings look like \(example)", field: "config")
        }
        if let stray = top.keys.sorted().first(where: { $0 != "clustersyncd" }) {
            throw ClusterSyncError(.invalidValue, """
                the settings file \(path) has "\(stray.prefix(60))" at its top level, where nothing is read: settings go under \
                "clustersyncd", as in \(example)
                """, field: "config")
        }
        if top.isEmpty { return }  // no settings: every default
        guard let settings = top["clustersyncd"] as? [String: Any] else {
            throw ClusterSyncError(.invalidValue, "the settings file \(path) has no \"clustersyncd\" object: settings look like \(example)", field: "config")
        }
        if let unknown = settings.keys.sorted().first(where: { !sections.contains($0) }) {
            throw ClusterSyncError(.invalidValue, """
                the settings file \(path) has "clustersyncd.\(unknown.prefix(60))", which is no setting: the settings are \
                \(sections.sorted().joined(separator: ", ")) (Deploy/clustersyncd.json has each)
                """, field: "config")
        }
    }
}
