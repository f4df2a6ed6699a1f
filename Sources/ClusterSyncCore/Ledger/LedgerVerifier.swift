import Foundation

/// Walks a tenant's chain (`LedgerChain`) and says what was altered, removed, reordered or
/// inserted after acceptance, naming sequence numbers. Pure and incremental: a store feeds it
/// its rows in sequence order (each position with its chain entry, its stored change, or both),
/// so a tenant of millions of changes is checked in one pass without holding them.
///
/// What it proves: the stored changes are the ones the chain recorded, in that order, and the
/// chain is whole from its first entry to its head. What it cannot prove alone: that nobody with
/// the file recomputed the whole chain after editing it (the rule has no secret). That needs a
/// head recorded elsewhere: `expectedHead`, which must be the hash of some entry of the chain.
public struct LedgerVerifier: Sendable {
    public let tenant: String
    public let expectedHead: Data?
    /// Problems kept for the report; more are counted, not kept.
    public static let maxProblems = 1000

    private var previousHash = LedgerChain.genesis
    private var previousSeq: Int64 = 0
    private var entries = 0
    private var problems: [LedgerProblem] = []
    private var uncounted = 0
    /// Entries whose stored change does not hash to their content hash; told apart at the end
    /// into reordered (the text is another entry's) and altered.
    private var mismatches: [(seq: Int64, text: String, salt: Data, contentHash: Data)] = []
    /// Erased entries (no salt) waiting for the redaction that names their change.
    private var erased: [ChangeID: Int64] = [:]
    private var redactions: [ChangeID: LedgerRedaction] = [:]
    private var markedOnArrival: [ChangeID: (seq: Int64, by: ChangeID)] = [:]
    private var sawExpectedHead = false
    /// The compaction the store reports (PROTOCOL.md §15, "Compaction"): up to its seq, a change
    /// compacted away (an empty text) is expected, and its entry alone is checked.
    public let compaction: LedgerCompaction?
    private var compacted = 0
    private var sawCheckpoint = false

    public init(tenant: String, expectedHead: Data? = nil, compaction: LedgerCompaction? = nil) {
        self.tenant = tenant
        self.expectedHead = expectedHead
        self.compaction = compaction
    }

    /// One position of the tenant's sequence, in ascending order: its chain entry (nil: the log
    /// holds a change there that the chain never recorded) and its stored change's canonical
    /// text (nil: the change is gone).
    public mutating func add(seq: Int64, entry: LedgerEntry?, changeText: String?) {
        guard let entry else {
            report(.inserted, [seq], "seq \(seq) holds a change that has no chain entry: it was inserted after acceptance")
            return
        }
        entries += 1
        var gap = false
        if entry.seq > previousSeq + 1 {
            gap = true
            let range = previousSeq + 1 == entry.seq - 1 ? "seq \(previousSeq + 1)" : "seqs \(previousSeq + 1)…\(entry.seq - 1)"
            report(.removed, Array((previousSeq + 1)...(entry.seq - 1)).prefix(100).map { $0 },
                   "\(range) \(previousSeq + 1 == entry.seq - 1 ? "is" : "are") missing from the chain: removed after acceptance")
        }
        let expected = LedgerChain.entryHash(tenant: tenant, seq: entry.seq, contentHash: entry.contentHash, previous: previousHash)
        if expected != entry.entryHash, !gap {
            report(.altered, [entry.seq],
                   "the chain entry at seq \(entry.seq) does not follow the one before it: the entry was altered, or one was inserted or removed before it")
        }
        if entry.entryHash == expectedHead { sawExpectedHead = true }
        if let compaction, entry.seq == compaction.throughSeq {
            sawCheckpoint = true
            if entry.entryHash != compaction.checkpoint {
                report(.altered, [entry.seq],
                       "the chain entry at seq \(entry.seq) is not the checkpoint recorded when the log was compacted through it: the chain was rewritten")
            }
        }
        previousHash = entry.entryHash
        previousSeq = entry.seq

        // Compacted: a superseded change's text is gone by design; its entry still links the chain.
        if let compaction, entry.seq <= compaction.throughSeq, changeText == "" {
            compacted += 1
            return
        }

        guard let text = changeText else {
            report(.removed, [entry.seq], "the change accepted at seq \(entry.seq) is missing from the log: removed after acceptance")
            return
        }
        if let salt = entry.salt {
            guard LedgerChain.contentHash(salt: salt, canonicalText: text) == entry.contentHash else {
                if mismatches.count < Self.maxProblems {
                    mismatches.append((entry.seq, text, salt, entry.contentHash))
                } else {
                    report(.altered, [entry.seq], "the change at seq \(entry.seq) is not the one accepted there: altered after acceptance")
                }
                return
            }
            note(text, seq: entry.seq)
        } else {
            // Erased by a redaction: the value is gone, so the content hash cannot be recomputed;
            // what stays checkable is that the change is marked and a chained redaction names it.
            guard let change = try? Change(jsonText: text), let by = Redaction.redaction(ofMarker: change.value) else {
                report(.altered, [entry.seq], "the chain entry at seq \(entry.seq) was erased, but its change is not marked as redacted: altered after acceptance")
                return
            }
            if var redaction = redactions[by], redaction.request.change == change.id {
                redaction.redactedSeq = entry.seq
                redactions[by] = redaction
            } else {
                erased[change.id] = entry.seq
            }
        }
    }

    /// Reads what a verified change says about redactions: a redaction, or a value stored
    /// already erased (the server had the redaction before the change arrived).
    private mutating func note(_ text: String, seq: Int64) {
        let mayMatter = text.contains("\"field\":\"\(Redaction.field)\"") || text.contains("{\"\(Redaction.markerKey)\":")
        guard mayMatter, let change = try? Change(jsonText: text) else { return }
        if let request = Redaction.request(of: change) {
            var redaction = LedgerRedaction(seq: seq, redaction: change.id, record: change.record, request: request,
                                            author: change.author, hlc: change.hlc)
            if let at = erased.removeValue(forKey: request.change) {
                redaction.redactedSeq = at
            } else if let marked = markedOnArrival[request.change], marked.by == change.id {
                redaction.redactedSeq = marked.seq
                redaction.erasedOnArrival = true
            }
            redactions[change.id] = redaction
        } else if let by = Redaction.redaction(ofMarker: change.value) {
            if var redaction = redactions[by], redaction.request.change == change.id {
                redaction.redactedSeq = seq
                redaction.erasedOnArrival = true
                redactions[by] = redaction
            } else {
                markedOnArrival[change.id] = (seq, by)
            }
        }
    }

    private mutating func report(_ kind: LedgerProblem.Kind, _ seqs: [Int64], _ message: String) {
        guard problems.count < Self.maxProblems else {
            uncounted += 1
            return
        }
        problems.append(LedgerProblem(kind: kind, seqs: seqs, message: message))
    }

    /// The report, once every position has been added.
    public mutating func finish() -> LedgerReport {
        // A change found at another entry's seq was moved there: reordered. The rest: altered.
        var owner: [Int64: Int64] = [:]
        for a in mismatches {
            if let b = mismatches.first(where: { $0.seq != a.seq && LedgerChain.contentHash(salt: $0.salt, canonicalText: a.text) == $0.contentHash }) {
                owner[a.seq] = b.seq
            }
        }
        for a in mismatches {
            if let b = owner[a.seq] {
                report(.reordered, [a.seq, b], "seq \(a.seq) holds the change accepted at seq \(b): reordered after acceptance")
            } else {
                report(.altered, [a.seq], "the change at seq \(a.seq) is not the one accepted there: altered after acceptance")
            }
        }
        for (id, seq) in erased.sorted(by: { $0.value < $1.value }) {
            report(.altered, [seq], "change \(id) at seq \(seq) is marked as redacted, but no redaction in the chain names it: altered after acceptance")
        }
        if let compaction, compaction.throughSeq > 0, !sawCheckpoint {
            report(.removed, [compaction.throughSeq],
                   "the chain entry at seq \(compaction.throughSeq), the checkpoint of the compaction, is missing: removed after compaction")
        }
        if let expectedHead, !sawExpectedHead {
            report(.unknownHead, [],
                   "no entry of the chain has the recorded head \(LedgerChain.hex(expectedHead)): the chain was rewritten (or the head is another tenant's)")
        }
        let list = redactions.values.sorted { $0.seq < $1.seq }
        return LedgerReport(
            tenant: tenant, entries: entries,
            head: previousSeq == 0 ? nil : LedgerHead(seq: previousSeq, hash: previousHash),
            problems: problems.sorted { ($0.seqs.first ?? .max, $0.kind.rawValue) < ($1.seqs.first ?? .max, $1.kind.rawValue) },
            moreProblems: uncounted, redactions: list, compaction: compaction, compacted: compacted)
    }
}

public struct LedgerHead: Sendable, Equatable {
    public var seq: Int64
    public var hash: Data

    public init(seq: Int64, hash: Data) {
        self.seq = seq
        self.hash = hash
    }

    public var text: String { "\(seq):\(LedgerChain.hex(hash))" }

    /// A head as `text` writes it (`seq:` and 64 lowercase hex digits), or nil.
    public init?(text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int64(parts[0]), seq > 0, parts[1].utf8.count == 64,
              let hash = LedgerChain.data(hex: String(parts[1])) else { return nil }
        self.init(seq: seq, hash: hash)
    }
}

public struct LedgerProblem: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case altered, removed, reordered, inserted
        /// The head recorded elsewhere is not in the chain.
        case unknownHead = "unknown-head"
    }

    public var kind: Kind
    /// The sequence numbers concerned (for `reordered`: where the change is, where it was accepted).
    public var seqs: [Int64]
    public var message: String
}

/// A redaction found in the chain: who (its stamped author), when (its clock), why, and which
/// change it erased.
public struct LedgerRedaction: Sendable, Equatable {
    /// Where the redaction itself was accepted.
    public var seq: Int64
    public var redaction: ChangeID
    public var record: RecordID
    public var request: Redaction.Request
    public var author: String?
    public var hlc: HLCTimestamp
    /// Where the erased change is; nil if the server never received it.
    public var redactedSeq: Int64?
    /// The change reached the server after the redaction: its value was never stored.
    public var erasedOnArrival = false
}

public struct LedgerReport: Sendable, Equatable {
    public var tenant: String
    public var entries: Int
    public var head: LedgerHead?
    public var problems: [LedgerProblem]
    /// Problems beyond `LedgerVerifier.maxProblems`, counted only.
    public var moreProblems: Int
    public var redactions: [LedgerRedaction]
    /// The tenant's compaction, if its log was compacted, and how many changes' texts it dropped.
    public var compaction: LedgerCompaction? = nil
    public var compacted = 0

    public var isIntact: Bool { problems.isEmpty && moreProblems == 0 }

    /// The stable JSON of `clustersyncd verify --json`; `time` turns a clock reading into a wall time.
    public func jsonValue(time: (HLCTimestamp) -> String) -> JSONValue {
        var object = baseJSON(time: time)
        if let compaction, case .object(var members) = object {
            members["compaction"] = .object([
                "throughSeq": .int(compaction.throughSeq), "checkpoint": .string(LedgerChain.hex(compaction.checkpoint)),
                "compactedAt": .int(compaction.compactedAt), "changesCompacted": .int(Int64(compacted)),
                "compactedAtTime": .string(time(HLCTimestamp(millis: compaction.compactedAt))),
            ])
            object = .object(members)
        }
        return object
    }

    private func baseJSON(time: (HLCTimestamp) -> String) -> JSONValue {
        .object([
            "tenant": .string(tenant),
            "intact": .bool(isIntact),
            "entries": .int(Int64(entries)),
            "head": head.map { .object(["seq": .int($0.seq), "hash": .string(LedgerChain.hex($0.hash))]) } ?? .null,
            "problems": .array(problems.map { problem in
                .object(["kind": .string(problem.kind.rawValue), "seqs": .array(problem.seqs.map(JSONValue.int)),
                         "message": .string(problem.message)])
            }),
            "moreProblems": .int(Int64(moreProblems)),
            "redactions": .array(redactions.map { r in
                .object([
                    "seq": .int(r.seq), "redaction": .string(r.redaction.description), "record": .string(r.record.rawValue),
                    "change": .string(r.request.change.description), "field": .string(r.request.field),
                    "reason": .string(r.request.reason), "author": r.author.map(JSONValue.string) ?? .null,
                    "hlc": .string(r.hlc.text), "time": .string(time(r.hlc)),
                    "redactedSeq": r.redactedSeq.map(JSONValue.int) ?? .null, "erasedOnArrival": .bool(r.erasedOnArrival),
                ])
            }),
        ])
    }
}


/// A tenant's log compaction as the chain sees it (PROTOCOL.md §15): the texts of superseded
/// changes up to `throughSeq` were dropped, their entries kept, and the entry hash at
/// `throughSeq` recorded as `checkpoint` when it happened.
public struct LedgerCompaction: Sendable, Equatable {
    public var throughSeq: Int64
    public var checkpoint: Data
    /// When (ms since 1970).
    public var compactedAt: Int64

    public init(throughSeq: Int64, checkpoint: Data, compactedAt: Int64) {
        self.throughSeq = throughSeq
        self.checkpoint = checkpoint
        self.compactedAt = compactedAt
    }
}
