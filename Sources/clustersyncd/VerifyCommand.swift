import ArgumentParser
import ClusterSyncCommandLine
import ClusterSyncCore
import ClusterSyncServer
import Foundation

/// `clustersyncd verify --tenant T`: walks the tenant's tamper-evident log and says whether every
/// accepted change is still there as accepted, in order; lists the redactions (who, when, why).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a tenant's tamper-evident log: report any change altered, removed, reordered or inserted after acceptance.",
        discussion: """
            Exit 0 when the chain is intact, 1 when it is not (each problem names the sequence numbers), 2 if it cannot be read. \
            Prints the head (seq:hash): record it somewhere the server's administrators cannot write (a ticket, an email to the \
            data protection officer), and pass it back with --expect-head, because someone with the store file could rebuild the \
            whole chain after editing it; only a head recorded elsewhere catches that. Reads the store only; safe while the server runs.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "The tenant (Health Board).") var tenant: String
    @Option(name: .customLong("expect-head"), help: ArgumentHelp(
        "A head recorded earlier (the hash, or seq:hash as verify prints it): the chain must still contain it.", valueName: "head"))
    var expectHead: String?
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        if let expectHead, Self.hash(expectHead) == nil {
            throw ValidationError("--expect-head must be 64 lowercase hex digits, optionally after \"seq:\"; got \"\(expectHead.prefix(80))\"")
        }
    }

    static func hash(_ text: String) -> Data? {
        LedgerChain.data(hex: String(text.split(separator: ":").last ?? ""))
    }

    func run() async throws {
        let report = try await data.store().verifyChain(tenant: tenant, expectedHead: expectHead.flatMap(Self.hash))
        var out: [String] = []
        func print(_ line: String) { out.append(line) }
        if json {
            print(report.jsonValue(time: TextTable.localTime).canonicalText)
        } else {
            print(report.isIntact
                  ? "intact: \(report.entries) change\(report.entries == 1 ? "" : "s") of \(tenant) chained, none altered, removed, reordered or inserted"
                  : "NOT INTACT: \(report.problems.count + report.moreProblems) problem\(report.problems.count + report.moreProblems == 1 ? "" : "s") in the log of \(tenant)")
            for problem in report.problems { print("  \(problem.kind.rawValue): \(problem.message)") }
            if report.moreProblems > 0 { print("  … and \(report.moreProblems) more") }
            print("head: \(report.head?.text ?? "none (no change accepted yet)")")
            if expectHead != nil, report.isIntact { print("the recorded head is in the chain") }
            if let compaction = report.compaction {
                print("compaction: through seq \(compaction.throughSeq) at \(TextTable.localTime(HLCTimestamp(millis: compaction.compactedAt))), "
                    + "checkpoint \(LedgerChain.hex(compaction.checkpoint)); the texts of \(report.compacted) superseded "
                    + "change\(report.compacted == 1 ? "" : "s") dropped, their chain entries kept")
            }
            for r in report.redactions {
                let target = r.redactedSeq.map { "seq \($0)" } ?? "not received by the server"
                print("redaction at seq \(r.seq): \(r.redaction) by \(r.author ?? "unknown") at \(TextTable.localTime(r.hlc)) erased the value of "
                    + "\(r.record) \(r.request.field) written by change \(r.request.change) (\(target)\(r.erasedOnArrival ? ", erased on arrival" : "")): \(r.request.reason)")
            }
        }
        // Unbuffered, since a broken chain ends the process with status 1 at once.
        StandardStream.write(out.map { $0 + "\n" }.joined(), to: .standardOutput)
        if !report.isIntact { Foundation.exit(1) }
    }
}
