import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncCore
import ClusterSyncServer
import Foundation

/// The open conflicts of a tenant's cluster registers, read from the server's materialised state:
/// which clusters have registers still to settle.
struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List the open conflicts in a tenant's cluster-shared records (practice-private records are left out).",
        discussion: "Reads the store only; safe while the server runs.")

    @OptionGroup var data: DataOptions
    @Option(help: "The tenant (Health Board).") var tenant: String
    @Option(help: "Only this cluster's.") var cluster: String?
    @Flag(help: "Print JSON, every competing value included.") var json = false

    func run() async throws {
        let summaries = try await data.store().conflicts(tenant: tenant, cluster: cluster)
        if json {
            let entries = summaries.flatMap { $0.entriesJSON(time: TextTable.localTime) }
            let object: JSONValue = .object([
                "tenant": .string(tenant),
                "cluster": cluster.map(JSONValue.string) ?? .null,
                "conflicts": .array(entries),
            ])
            print(object.canonicalText)
            return
        }
        guard !summaries.isEmpty else {
            print("no open conflicts in \(tenant)\(cluster.map { "/\($0)" } ?? "")")
            return
        }
        var rows: [[String]] = []
        for summary in summaries.sorted(by: { ($0.record.scope.cluster, $0.record.id) < ($1.record.scope.cluster, $1.record.id) }) {
            for conflict in summary.conflicts {
                var title = summary.title ?? ""
                if summary.record.type == .item, let list = summary.list?.string("title") { title += " (in list \"\(list)\")" }
                rows.append([
                    summary.record.scope.cluster, summary.record.id.rawValue, summary.record.type.rawValue,
                    TextTable.truncated(title, 40), conflict.field, conflict.kind.rawValue, "\(conflict.values.count)",
                ])
            }
        }
        print(TextTable.render(["cluster", "id", "type", "title", "field", "kind", "values"], rows))
        let clusters = Set(summaries.map(\.record.scope.cluster)).count
        print("\n\(rows.count) open conflict\(rows.count == 1 ? "" : "s") in \(summaries.count) record\(summaries.count == 1 ? "" : "s") "
            + "of \(clusters) cluster\(clusters == 1 ? "" : "s")")
    }
}
