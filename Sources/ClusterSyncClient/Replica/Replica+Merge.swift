import ClusterSyncCore
import GRDB

extension Replica {
    public struct MergeOutcome: Sendable, Equatable {
        /// Changes this replica received from the other.
        public var received: ApplyOutcome
        /// Changes the other replica received from this one.
        public var sent: ApplyOutcome
    }

    /// How far a merge has gone: changes written into each file (new or already there), of how
    /// many each is to receive.
    public struct MergeProgress: Sendable, Equatable {
        public var received = 0
        public var toReceive = 0
        public var sent = 0
        public var toSend = 0

        public var counts: [ProgressLine.Count] {
            [.init("received", received, of: toReceive), .init("sent", sent, of: toSend)]
        }
    }

    /// Exchanges changes with another replica file of the same cluster, in both directions: the
    /// transport-free sync used for offline hand-over. Each side receives only what it may hold
    /// (never another practice's private records).
    public func merge(with other: Replica, progress: (MergeProgress) -> Void = { _ in }) throws -> MergeOutcome {
        let otherName = "the other replica (\(other.database.path))"
        // What is read from the other file names it in an error: a file handed over may be
        // damaged or made up.
        func fromOther<T>(_ read: () throws -> T) throws -> T {
            do {
                return try read()
            } catch let error as ClusterSyncError {
                throw ClusterSyncError(error.code, "\(otherName): \(error.message)", field: error.field)
            }
        }
        // A PCPG's or Health Board's replica takes records from its server only, and gives none.
        if let role = try oversightRole() { throw Self.readOnlyRefusal(role) }
        if let role = try fromOther({ try other.oversightRole() }) {
            // Named as the other file: "this is a pcpg replica" read as the replica merged into.
            throw ClusterSyncError(.forbiddenScope, "\(otherName) is a \(role.role) replica\(role.region.map { " of region \($0)" } ?? ""): "
                + "it takes records from its server only and gives none, so no practice's replica merges with it")
        }
        let mine = try identity()
        let theirs = try fromOther { try other.identity() }
        guard mine.tenant == theirs.tenant, mine.cluster == theirs.cluster else {
            throw ClusterSyncError(.forbiddenScope,
                "the other replica belongs to \(theirs.tenant)/\(theirs.cluster), not \(mine.tenant)/\(mine.cluster); only replicas of one cluster merge")
        }
        if mine.replicaID == theirs.replicaID {
            try Self.refuseEditedCopy(try allChanges(), try fromOther { try other.allChanges() }, replica: mine.replicaID, other: otherName)
        }
        // Ids first, then only the changes the other lacks: two files of a cluster's years hold
        // tens of thousands of changes each, and a merge with nothing new decoded them all.
        let myIDs = try changeIDs(), theirIDs = try fromOther { try other.changeIDs() }
        var toThem = try changes(myIDs.subtracting(theirIDs)).filter { theirs.mayHold($0.scope) }
        var toMe = try fromOther { try other.changes(theirIDs.subtracting(myIDs)) }.filter { mine.mayHold($0.scope) }
        // Each side checks the other's signed changes against the keys both know (each file's
        // own key, and those it learned): one that fails refuses the merge, before anything is
        // written. A change whose maker's key neither knows is checked by the server instead.
        // A change in a replica's own name that it does not hold is either its own (made here
        // after a backup the file was restored from: signed with its key, checked below) or
        // made up. Unsigned, it is made up: taken in, it would move this replica's counter
        // wherever its maker chose. With a value a redaction erased, its signature cannot be
        // checked: past the replica's own counter, it is made up (one at 2^53 - 1 left the
        // replica making only changes the server refuses); at or below it, it is an old change
        // of its own the replica no longer holds (a snapshot keeps only live writes), and moves
        // nothing.
        // (A copy of this very file is one replica: its counter is the larger.)
        var counters = [mine.replicaID: try ownCounter()]
        counters[theirs.replicaID] = max(counters[theirs.replicaID] ?? 0, try fromOther { try other.ownCounter() })
        for (changes, owner) in [(toMe, mine.replicaID), (toThem, theirs.replicaID)] {
            if let forged = changes.first(where: { $0.id.replica == owner && $0.sig == nil }) {
                throw ClusterSyncError(.badSignature,
                    "change \(forged.id) claims to be made by \(owner == mine.replicaID ? "this replica" : "the other replica"), "
                    + "which has no such change and signs every change it makes; the merge is refused and nothing was written")
            }
            if let erased = changes.first(where: { $0.id.replica == owner && Redaction.isMarker($0.value) && $0.id.counter > counters[owner] ?? 0 }) {
                throw ClusterSyncError(.badSignature,
                    "change \(erased.id) claims to be made by \(owner == mine.replicaID ? "this replica" : "the other replica"), "
                    + "which has made no change numbered so far, and its value was erased by a redaction, so its signature "
                    + "cannot be checked; the merge is refused and nothing was written. If that replica lost its last changes "
                    + "(a power cut, a backup), sync it with the server first, which sends them, then merge again")
            }
        }
        // A redaction erases a value for good and only a cluster lead may make one, which a file
        // cannot show (anyone can sign with a key of their own making): redactions come from the
        // server alone, which checked the lead's role, and are not taken from a file (a made-up
        // one erased the receiver's own value for good).
        toMe.removeAll { $0.field == Redaction.field }
        toThem.removeAll { $0.field == Redaction.field }
        let myKeys = try knownKeys(), theirKeys = try fromOther { try other.knownKeys() }
        let keys = myKeys.merging(theirKeys) { mine, theirs in (mine.key ?? theirs.key, mine.acknowledged || theirs.acknowledged) }
        // An erased change (redacted) no longer matches its signature: the server's chain vouches
        // for it instead (changes.md §10). Checked on every core, as the server checks a push.
        let checkable = (toMe + toThem).filter { $0.sig != nil && !Redaction.isMarker($0.value) && keys[$0.id.replica]?.key != nil }
        if let bad = PushValidation.firstBadSignature(checkable, keys: keys.compactMapValues(\.key)) { throw bad.error }
        // Both files are asked before either is written, so a change one of them refuses (a clock
        // limit, a record's scope) leaves both as they were. (A write failing after the checks,
        // a full disk, can still leave the first file merged: merging again finishes the job.)
        for (receiver, changes, name) in [(self, toMe, "this replica"), (other, toThem, otherName)] {
            if let refusal = try receiver.peerRefusal(changes) {
                throw ClusterSyncError(refusal.code, "\(name) refuses a change of the merge, so nothing was written: \(refusal.message)", field: refusal.field)
            }
        }
        var state = MergeProgress(toReceive: toMe.count, toSend: toThem.count)
        progress(state)
        let received = try apply(toMe, unreadable: [], origin: .peer, cursor: nil, progressSlice: 10_000) { written in
            state.received += written
            progress(state)
        }
        let sent = try other.apply(toThem, unreadable: [], origin: .peer, cursor: nil, progressSlice: 10_000) { written in
            state.sent += written
            progress(state)
        }
        try learnKeys(theirKeys)
        try other.learnKeys(myKeys)
        return MergeOutcome(received: received, sent: sent)
    }

    /// The counter of the last change this replica made (or was given back by its server).
    public func ownCounter() throws -> Int64 {
        try database.read { db in try Self.ownCounter(db) }
    }

    static func ownCounter(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT counter FROM identity")) ?? 0
    }

    /// Two files of one replica id (a replica file copied to a second laptop) each numbering
    /// their own changes from where the copy was made: a change id both hold with different
    /// contents means both were edited, and a merge (or a sync: the server takes the first it
    /// is sent, the second is a duplicate) would keep only one of the two edits.
    static func refuseEditedCopy(_ mine: [Change], _ theirs: [Change], replica: ReplicaID, other: String) throws {
        let own = Dictionary(mine.lazy.filter { $0.id.replica == replica }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        guard let clash = theirs.first(where: { change in own[change.id].map { !ReplicaOwnership.isResend(change, of: $0) } ?? false })
        else { return }
        throw ClusterSyncError(.invalidValue,
            "\(other) is a copy of this replica file that was edited separately: both made a change \(clash.id) and they differ. "
            + "Nothing was merged. Keep one of the two files; on the other laptop make a new replica (`clustersync init`) and "
            + "enter its edits there (`clustersync export --replica` the copy shows them)")
    }
}
