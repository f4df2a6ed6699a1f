import ClusterSyncCore

extension Replica {
    /// Carries out one of a sync machine's actions when it is the replica's own: reading the
    /// outbox, remembering the welcome, acknowledging, holding back, applying pages and
    /// recording the sync. `SyncClient` does the network's actions and hands it the rest, and so
    /// do tests that answer the machine in-process, so both run this code.
    ///
    /// Actions done in this one's transaction are taken off the front of `pending` (a welcome's
    /// store identity; a last page's `recordSuccessfulSync`); events the action produces are fed
    /// to `machine` and its next actions appended to `pending`.
    /// - Returns: nil when the action is not the replica's; else what it applied (nothing but
    ///   for the pages).
    public func perform(
        _ action: ClientSyncStateMachine.Action, _ machine: inout ClientSyncStateMachine,
        pending: inout [ClientSyncStateMachine.Action], now: Int64
    ) throws -> ApplyOutcome? {
        switch action {
        case .readOutbox(let after, let limit):
            pending += machine.handle(.outboxRead(try outbox(after: after, limit: limit)), now: now)
        case .rememberLimits(let limits):
            // The welcome's `rememberStore` follows at once: both in one transaction.
            var store: (id: String, replaced: Bool, cursor: Cursor?)?
            if case .rememberStore(let id, let replaced) = pending.first {
                pending.removeFirst()
                store = (id, replaced, machine.cursor)
            }
            try rememberWelcome(limits: limits, credentialExpiresAt: machine.welcome?.credentialExpiresAt,
                                identity: machine.welcome?.identity, store: store, head: machine.welcome?.head)
        case .rememberStore(let store, let replaced):
            try rememberServerStore(store, replaced: replaced, cursor: machine.cursor)
        case .acknowledge(let ids, let author, let superseded):
            try acknowledge(ids, author: author, superseded: superseded)
        case .holdBack(let id, let code, let reason):
            try holdBack(id, code: ClusterSyncError.Code(code), reason: reason)
        case .apply(let page):
            // A sync's last page is followed (after progress) by recordSuccessfulSync: recorded
            // in the page's transaction rather than a write of its own.
            let next = pending.firstIndex { if case .progress = $0 { false } else { true } }
            let record = next.map { pending[$0] == .recordSuccessfulSync } ?? false
            if record, let next { pending.remove(at: next) }
            return try applyPulled(page, recordingSuccessfulSync: record)
        case .applySnapshot(let page, let first):
            return try applySnapshot(page, first: first)
        case .recordSuccessfulSync:
            try recordSuccessfulSync()
        case .connect, .sendHello, .send, .keepHistory, .progress, .notice, .close, .finish, .fail:
            return nil
        }
        return ApplyOutcome()
    }
}
