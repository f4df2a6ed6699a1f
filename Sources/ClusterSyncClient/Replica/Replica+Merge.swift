import ClusterSyncCore

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
        // A PCPG's or Health Board's replica takes records from its server only, and gives none.
        for replica in [self, other] {
            if let role = try replica.oversightRole() { throw Self.readOnlyRefusal(role) }
        }
        let mine = try identity()
        let theirs = try other.identity()
        guard mine.tenant == theirs.tenant, mine.cluster == theirs.cluster else {
            throw ClusterSyncError(.forbiddenScope,
                "the other replica belongs to \(theirs.tenant)/\(theirs.cluster), not \(mine.tenant)/\(mine.cluster); only replicas of one cluster merge")
        }
        let myIDs = try changeIDs()
        let theirIDs = try other.changeIDs()
        let toThem = try allChanges().filter { !theirIDs.contains($0.id) && theirs.mayHold($0.scope) }
        let toMe = try other.allChanges().filter { !myIDs.contains($0.id) && mine.mayHold($0.scope) }
        // Each side checks the other's signed changes against the keys both know (each file's
        // own key, and those it learned): one that fails refuses the merge, before anything is
        // written. A change whose maker's key neither knows is checked by the server instead.
        // A change in a replica's own name that it does not hold is either its own (made here
        // after a backup the file was restored from: signed with its key, checked below) or
        // made up. Unsigned, it is made up: taken in, it would move this replica's counter
        // wherever its maker chose.
        for (changes, owner) in [(toMe, mine.replicaID), (toThem, theirs.replicaID)] {
            if let forged = changes.first(where: { $0.id.replica == owner && $0.sig == nil }) {
                throw ClusterSyncError(.badSignature,
                    "change \(forged.id) claims to be made by \(owner == mine.replicaID ? "this replica" : "the other replica"), "
                    + "which has no such change and signs every change it makes; the merge is refused and nothing was written")
            }
        }
        let myKeys = try knownKeys(), theirKeys = try other.knownKeys()
        let keys = myKeys.merging(theirKeys) { mine, theirs in (mine.key ?? theirs.key, mine.acknowledged || theirs.acknowledged) }
        // An erased change (redacted) no longer matches its signature: the server's chain vouches
        // for it instead (changes.md §10).
        for change in toMe + toThem where change.sig != nil && !Redaction.isMarker(change.value) {
            guard let key = keys[change.id.replica]?.key else { continue }
            try ChangeSignature.verify(change, key: key)
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
}
