import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

/// `clustersync redact ID FIELD CHANGE --reason …`: erase one written value everywhere.
struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Erase one value written by mistake (a patient's name, an address) from every replica's and the server's store and history.",
        discussion: """
            The value is erased here at once, on the server at your next sync, and on every other replica when it next syncs; \
            a copy handed over later with `merge` is erased as it arrives. The change itself stays, marked "[redacted]", and the \
            redaction is recorded with your name, the time and the reason (`clustersyncd verify` lists it). Only free text can be \
            redacted (text, tags, notes, attendees). CHANGE is the change id `clustersync history ID --json` shows for the value.
            """)

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The record id.") var id: String
    @Argument(help: "The field the value was written to.") var field: String
    @Argument(help: "The id of the change that wrote it (counter@replica).") var change: String
    @Option(help: "Why (1 to 500 characters, kept with the redaction; never repeat the erased value here).") var reason: String

    func run() throws {
        guard let record = RecordID(typed: id) else {
            throw ClusterSyncError(.unknownRecord, "\"\(id)\" is not a record id (like RSK-7K3M9Q2X1A)")
        }
        guard let target = ChangeID(change) else {
            throw ClusterSyncError(.invalidValue, "\"\(change.prefix(80))\" is not a change id (counter@replica, as `clustersync history \(record) --json` shows)", field: "change")
        }
        let redaction = try replica.open().redact(record, field: field, change: target, reason: reason)
        if output.json {
            Output.printJSON(.object(["redaction": .string(redaction.id.description), "record": .string(record.rawValue),
                                      "field": .string(field), "change": .string(target.description)]))
        } else {
            print("erased the value of \(field) written by \(target) in \(record) (redaction \(redaction.id)); sync to erase it on the server and every replica")
        }
    }
}
