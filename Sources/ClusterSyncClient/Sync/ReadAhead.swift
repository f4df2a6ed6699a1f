import Synchronization

/// How far the reading of a session's lines runs ahead of their handling: the reader hands a
/// message over and then waits while `limit` are queued and not yet taken, so a server that
/// floods a client (pages it never asked for, a subscription faster than the replica writes)
/// fills the connection's buffers, which TCP pushes back on, instead of the client's memory.
/// Before the fifty-sixth session the queue had no bound (a review of a server against the
/// client).
public final class ReadAhead: Sendable {
    public let limit: Int

    private struct State {
        var queued = 0
        var waiting: CheckedContinuation<Void, Never>?
        var closed = false
        /// While the handler writes, the reader reads on, up to `writingLimit`: a server that
        /// is itself waiting to send before it reads would otherwise wait on a client waiting
        /// to write (it has a page or two to send), and one that floods while the client's write
        /// creeps along still meets a bound.
        var writing = false
    }

    private let state = Mutex(State())

    /// The bound while the handler writes.
    public var writingLimit: Int { limit * 16 }

    public init(limit: Int) {
        self.limit = limit
    }

    /// The reader handed a message over: returns at once while fewer than `limit` are queued,
    /// else once one has been taken (or the session is closing).
    public func handedOver() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let goOn = state.withLock { state -> Bool in
                state.queued += 1
                guard state.queued >= (state.writing ? writingLimit : limit), !state.closed else { return true }
                state.waiting = continuation
                return false
            }
            if goOn { continuation.resume() }
        }
    }

    /// The handler took a message.
    public func taken() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.queued -= 1
            guard state.queued < limit else { return nil }
            defer { state.waiting = nil }
            return state.waiting
        }
        waiter?.resume()
    }

    /// The session is closing: a waiting reader goes on (and ends), and none waits again.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiting = nil }
            return state.waiting
        }
        waiter?.resume()
    }

    /// Runs `write` with the bound raised to `writingLimit` (`State.writing`).
    public func whileWriting<T>(_ write: () async -> T) async -> T {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.writing = true
            guard state.queued < writingLimit else { return nil }
            defer { state.waiting = nil }
            return state.waiting
        }
        waiter?.resume()
        defer { state.withLock { $0.writing = false } }
        return await write()
    }

    /// Messages handed over and not yet taken.
    public var queued: Int { state.withLock { $0.queued } }
}
