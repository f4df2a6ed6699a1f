import ArgumentParser
import Foundation
import ClusterSyncClient
import ClusterSyncCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a new replica file for one practice, or a read-only one for a PCPG or Health Board; prints its replica id.")

    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The tenant: the Health Board (e.g. bcuhb).") var tenant: String
    @Option(help: "The cluster (e.g. north-denbighshire); not for --role pcpg|health-board.") var cluster: String?
    @Option(help: "This practice (e.g. prestatyn-medical); not for --role pcpg|health-board.") var practice: String?
    @Option(help: "practice (the default); cluster-lead for a lead's laptop set up before its first sync (the server's welcome then says which role the credential has); or pcpg / health-board for a read-only replica of roll-ups and escalated risks.")
    var role: String = CredentialRole.practice.rawValue
    @Option(help: "A pcpg replica's region (the PCPG's county, e.g. conwy-denbighshire).") var region: String?
    @Option(help: "The name your edits are signed with until a server stamps them (e.g. \"Practice manager, Prestatyn\").")
    var name: String

    func run() throws {
        let role = try CredentialRole.parse(role)
        if role.isReadOnly {
            guard cluster == nil, practice == nil else {
                throw ClusterSyncError(.invalidValue, "a \(role) replica covers \(role == .pcpg ? "a region's clusters" : "the whole tenant"): "
                    + "leave out --cluster and --practice", field: cluster == nil ? "practice" : "cluster")
            }
            let (_, identity) = try Replica.createReadOnly(path: replica.path, tenant: tenant, role: role, region: region, displayName: name)
            Output.print(identity.replicaID.rawValue)
            return
        }
        guard let cluster, let practice else {
            throw ClusterSyncError(.invalidValue, "init needs --cluster and --practice (or --role pcpg|health-board)",
                                   field: cluster == nil ? "cluster" : "practice")
        }
        guard region == nil else {
            throw ClusterSyncError(.invalidValue, "--region is for --role pcpg", field: "region")
        }
        let (made, identity) = try Replica.create(path: replica.path, tenant: tenant, cluster: cluster, practice: practice, displayName: name)
        if role == .clusterLead { try made.declareRole(role) }
        Output.print(identity.replicaID.rawValue)
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show any record, with its conflicts.")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "A record id (RSK-, ACT-, LST-, ITM-, MTG-, DEC-, DOI-, TOR-, PLN- or CTB-).") var id: String

    func run() throws {
        try Self.show(id, type: nil, replica: replica.open(), json: output.json)
    }

    static func show(_ id: String, type: RecordType?, replica: Replica, json: Bool) throws {
        let view = try replica.requireRecord(typed: id, of: type)
        let items = view.type == .list ? try replica.items(of: view.id) : nil
        let governance = try replica.governance()
        if json {
            Output.printJSON(view.jsonValue(today: replica.today, items: items, governance: governance))
        } else {
            Output.print(Output.render(view, today: replica.today, items: items, governance: governance) + Output.governanceLines(view, governance))
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Who this replica is and what is waiting to sync.")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let replica = try replica.open()
        let identity = try replica.identity()
        let pending = try replica.pendingCount()
        let conflicts = try replica.conflictCounts().conflicts
        let remote = try replica.remote()
        let lastSync = try replica.syncState().lastSyncMillis
        let setAside = try replica.setAside()
        let waiting = try replica.waitingRelays()
        let heldBack = try replica.heldBack()
        let credentialExpires = try replica.credentialExpiry()
        let chainHead = try replica.serverChainHead()
        let credentialWarning = CredentialExpiryWarning.warning(expiresAt: credentialExpires, now: Int64(Date().timeIntervalSince1970 * 1000))
        let readOnly = try replica.oversightRole()
        let granted = try replica.effectiveRole()
        let holder = readOnly.map { "reads     \($0.role)\($0.region.map { " region \($0)" } ?? "") of \(identity.tenant) (a read-only replica)" }
            ?? "practice  \(identity.practice) in cluster \(identity.cluster), \(identity.tenant)"
        if output.json {
            Output.printJSON(.object([
                "replica": .string(identity.replicaID.rawValue), "tenant": .string(identity.tenant),
                "cluster": .string(identity.cluster), "practice": .string(identity.practice),
                "name": .string(identity.displayName), "pending": .int(Int64(pending)), "conflicts": .int(Int64(conflicts)),
                "server": remote.map { .string("\($0.host):\($0.port)") } ?? .null,
                "lastSync": lastSync.map { .string(Output.isoTime(millis: $0)) } ?? .null,
                "credentialExpires": credentialExpires.map { .string(Output.isoTime(millis: $0)) } ?? .null,
                "credentialWarning": credentialWarning.map(JSONValue.string) ?? .null,
                "chainHead": chainHead.map { .string($0.head.text) } ?? .null,
                "chainHeadAt": chainHead.map { .string(Output.isoTime(millis: $0.toldAt)) } ?? .null,
                "waitingRelays": .array(waiting.map { entry in
                    .object(["maker": .string(entry.maker.rawValue), "changes": .int(Int64(entry.count)),
                             "unsigned": .bool(entry.unsigned), "why": .string(entry.sentence)])
                }),
                "role": .string(granted.role.rawValue), "region": granted.region.map(JSONValue.string) ?? .null,
                "setAside": .array(setAside.map { entry in
                    .object([
                        "change": entry.change.map { .string($0.description) } ?? .null,
                        "record": entry.record.map { .string($0.rawValue) } ?? .null,
                        "code": .string(entry.code.rawValue), "reason": .string(entry.reason),
                        "since": .string(Output.isoTime(millis: entry.setAsideMillis)),
                    ])
                }),
                "heldBack": .array(heldBack.map { entry in
                    .object([
                        "change": .string(entry.change.description),
                        "record": entry.record.map { .string($0.rawValue) } ?? .null,
                        "field": entry.field.map(JSONValue.string) ?? .null,
                        "code": .string(entry.code.rawValue), "reason": .string(entry.reason),
                        "since": .string(Output.isoTime(millis: entry.heldBackMillis)),
                    ])
                }),
            ]))
            return
        }
        Output.print("""
            replica   \(identity.replicaID)  (\(self.replica.path))
            \(holder)
            name      \(identity.displayName)
            role      \(granted.role)\(granted.region.map { " of region \($0)" } ?? "")\(granted.grantedAt == nil ? " (until the first sync says otherwise)" : " (as the server said at the last sync)")
            pending   \(pending) change\(pending == 1 ? "" : "s") not yet synced
            conflicts \(conflicts)
            server    \(remote.map { "\($0.host):\($0.port)" } ?? "none (clustersync remote set)")
            last sync \(lastSync.map { Output.localTime(HLCTimestamp(millis: $0)) } ?? "never")
            set aside \(setAside.isEmpty ? "none" : "\(setAside.count) change\(setAside.count == 1 ? "" : "s") from the server that this replica cannot apply; each is tried again at every sync")
            """)
        for entry in setAside {
            Output.print("  \(entry.change?.description ?? "unreadable change") to \(entry.record?.rawValue ?? "an unknown record"): \(entry.reason) (\(entry.code))")
        }
        for entry in waiting { Output.print("waiting   \(entry.sentence)") }
        if !heldBack.isEmpty {
            Output.print("held back \(heldBack.count) change\(heldBack.count == 1 ? "" : "s") the server refused; they stay on this replica only"
                + (heldBack.contains { $0.code == .leadOnly } ? " (those refused as lead-only go again when it syncs with a cluster-lead credential)" : "")
                + (heldBack.contains { $0.code == .supersedesUnsynced } ? " (those refused as supersedes-unsynced go again at each sync)" : "") + ":")
            for entry in heldBack {
                Output.print("  \(entry.change) to \(entry.record?.rawValue ?? "an unknown record") \(entry.field ?? ""): \(entry.reason) (\(entry.code))")
            }
        }
        if let credentialExpires {
            Output.print("credential expires \(Output.localTime(HLCTimestamp(millis: credentialExpires))) (as the server said at the last sync)")
        }
        if let credentialWarning { Output.print("warning: \(credentialWarning)") }
        if let chainHead {
            Output.print("chain head \(chainHead.head.text) (the server's tamper-evident log, as it said on \(Output.localTime(HLCTimestamp(millis: chainHead.toldAt)))): "
                + "its administrator can prove it still holds it with `clustersyncd verify --tenant \(identity.tenant) --expect-head \(chainHead.head.text)`")
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export the registers as CSV or JSON on stdout.")

    enum Format: String, ExpressibleByArgument { case csv, json }

    @OptionGroup var replica: ReplicaOptions
    @Option(help: "csv or json.") var format: Format = .json
    @Option(help: "For CSV: the register (\(RecordType.allCases.map(\.rawValue).joined(separator: ", "))).") var type: String = "risk"

    func run() throws {
        let replica = try replica.open()
        switch format {
        case .json:
            Output.printJSON(try replica.exportJSON(today: replica.today))
        case .csv:
            guard let recordType = RecordType(rawValue: type) else {
                throw ValidationError("--type must be one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            Output.print(String(try replica.exportCSV(recordType, today: replica.today).dropLast()))
        }
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Exchange changes with another replica file of the same cluster, both ways.")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The other replica file.") var from: String
    @Option(help: ArgumentHelp("When stderr is not a terminal: print a progress line this often during a long merge.", valueName: "seconds"))
    var progressEvery: Double = 10

    func validate() throws {
        if !(progressEvery >= 0 && progressEvery <= 86_400) { throw ValidationError("--progress-every must be between 0 and 86400 seconds") }
    }

    func run() throws {
        let mine = try replica.open()
        let started = Date()
        let printer = ProgressPrinter(plainSeconds: progressEvery)
        let outcome = try mine.merge(with: try Replica.openExisting(path: from)) { printer.update($0.counts) }
        printer.finish()
        if output.json {
            Output.printJSON(.object([
                "received": .int(Int64(outcome.received.applied)), "sent": .int(Int64(outcome.sent.applied)),
                "alreadyThere": .int(Int64(outcome.received.duplicates + outcome.sent.duplicates)),
                "seconds": .double((Date().timeIntervalSince(started) * 1000).rounded() / 1000),
                "finishedAt": .string(Output.isoTime(Date())),
            ]))
            return
        }
        Output.print("received \(outcome.received.applied) change\(outcome.received.applied == 1 ? "" : "s"), sent \(outcome.sent.applied)")
    }
}
