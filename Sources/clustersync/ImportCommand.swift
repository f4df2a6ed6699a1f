import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a register from a spreadsheet (CSV with the columns export writes), all rows or none.",
        discussion: """
            Start from `clustersync export --format csv --type T`: the same columns are read back. A row with an id \
            updates that record (only cells that differ; an empty cell leaves a field as it is); a row with an empty \
            id creates a record. Sets are separated by "; "; dates are YYYY-MM-DD or DD/MM/YYYY (as a spreadsheet in Wales saves them); scores 4x3, or a risk's likelihood and consequence (or impact) in columns of their own, 1 to 5 or the matrix's word; yes/no flags. \
            Derived columns (band, rag, ...) and conflicts are ignored; a column named twice, a value under an unnamed column, or two rows for one record is an error. Every row is checked first: if any is wrong, \
            each problem is listed by line and column and nothing is imported.
            """)

    enum Format: String, ExpressibleByArgument { case csv }

    @OptionGroup var replica: ReplicaOptions
    @Option(help: "csv.") var format: Format = .csv
    @Option(help: ArgumentHelp("The register: \(RecordType.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "type"))
    var type: String
    @Flag(help: "Check every row and show what would change, writing nothing.") var dryRun = false
    @OptionGroup var output: OutputOptions
    @Argument(help: "The CSV file.") var file: String

    func run() throws {
        guard let recordType = RecordType(rawValue: type) else {
            throw ValidationError("--type must be one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let replica = try replica.open()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ClusterSyncError(.invalidValue, "cannot read \(file)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ClusterSyncError(.invalidValue, "\(file) is not UTF-8 text; save the spreadsheet as \"CSV UTF-8\"")
        }
        let outcome = try replica.importCSV(text, type: recordType, dryRun: dryRun)
        if output.json {
            Output.printJSON(.object([
                "created": .int(Int64(outcome.created)), "updated": .int(Int64(outcome.updated)), "unchanged": .int(Int64(outcome.unchanged)),
                "changes": .int(Int64(outcome.changes)), "dry_run": .bool(dryRun), "imported": .bool(!dryRun && outcome.problems.isEmpty),
                "warnings": .array(outcome.warnings.map(Self.json)),
                "rows": .array(outcome.rows.map {
                    // A new record's id is drawn when it is made: a check has none to give.
                    .object(["line": .int(Int64($0.line)), "record": dryRun && $0.created ? .null : .string($0.record.rawValue), "created": .bool($0.created),
                             "fields": .array($0.fields.map(JSONValue.string))])
                }),
                "problems": .array(outcome.problems.map(Self.json)),
            ]))
        }
        guard outcome.problems.isEmpty else {
            throw ClusterSyncError(.invalidValue,
                "nothing imported: \(outcome.problems.count) problem\(outcome.problems.count == 1 ? "" : "s") in \(file):\n"
                + outcome.problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        if !output.json {
            for warning in outcome.warnings { Output.printError("note: \(warning)") }
            // A check shows each row's change, so the file can be looked over before it is imported.
            if dryRun { for row in outcome.rows { Output.print(row.text) } }
            let verb = dryRun ? "would create" : "created"
            Output.print("\(verb) \(outcome.created), \(dryRun ? "would update" : "updated") \(outcome.updated), unchanged \(outcome.unchanged) (\(outcome.changes) change\(outcome.changes == 1 ? "" : "s"))")
        }
    }

    /// A problem or a warning as `--json` prints it: `{"line","column","message"}`.
    static func json(_ problem: Replica.ImportProblem) -> JSONValue {
        .object(["line": .int(Int64(problem.line)), "column": problem.column.map(JSONValue.string) ?? .null, "message": .string(problem.message)])
    }
}
