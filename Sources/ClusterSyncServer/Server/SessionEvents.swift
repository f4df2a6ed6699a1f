import ClusterSyncCore
import NIOCore
import Synchronization

/// One connection's events, handled in order, one at a time, by a task that exists only while
/// some wait: a quiet session holds no task at all.
///
/// Why not a task per session looping over a stream: a Swift task keeps the memory its deepest
/// call ever needed (its allocator's slabs) until it ends. A session's task that had once
/// authenticated, stored a push and read a page kept about 29 KB for the connection's life, and
/// a second task reading lines for it more (heaptrack, 1,000 sessions open and quiet): most of
/// what 4,000 idle sessions cost. Here each burst of events gets a task that ends when the
/// burst does, and between bursts the session is its state machine and a few handles, parked.
final class SessionEvents: Sendable {
    typealias Event = SessionHandler.Event

    private struct State {
        var waiting: [Event] = []
        /// A task is taking events (or opening the session).
        var pumping = false
        /// The session has ended: events are dropped.
        var ended = false
        /// The handler, once the session has been started.
        var handler: SessionHandler?
        /// The session between bursts of events.
        var parked: SessionHandler.Running?
        /// Lines given to the session and not yet taken, and whether a read from the socket is
        /// held back until fewer wait.
        var linesWaiting = 0
        var readHeld = false
    }

    /// The most lines waiting before the connection stops reading from its socket, so a client
    /// that sends faster than the server answers holds only a few lines in the server's memory.
    static let maxLinesWaiting = 2

    let channel: any Channel
    /// Succeeded once the session has ended and let go of everything it held.
    let ended: EventLoopPromise<Void>
    private let state = Mutex(State())

    init(channel: any Channel) {
        self.channel = channel
        self.ended = channel.eventLoop.makePromise(of: Void.self)
    }

    /// Whether a task is taking the session's events (or opening it) now.
    var isTakingEvents: Bool { state.withLock { $0.pumping && !$0.ended } }

    /// Adds an event; starts a task to handle it if none is running.
    func yield(_ event: Event) {
        let resume: (SessionHandler, SessionHandler.Running)? = state.withLock { state in
            guard !state.ended else { return nil }
            if case .line = event { state.linesWaiting += 1 }
            state.waiting.append(event)
            guard !state.pumping, let handler = state.handler, let parked = state.parked.take() else { return nil }
            state.pumping = true
            return (handler, parked)
        }
        if let (handler, running) = resume {
            Task { await self.pump(handler, running) }
        }
    }

    /// Starts the session: `open` runs first (events wait meanwhile), then the events in order.
    func start(_ handler: SessionHandler, open: @escaping @Sendable () async -> SessionHandler.Running?) {
        state.withLock { state in
            state.handler = handler
            state.pumping = true
        }
        Task {
            guard let running = await open() else {
                self.finish()
                return
            }
            await self.pump(handler, running)
        }
    }

    private func pump(_ handler: SessionHandler, _ running: SessionHandler.Running) async {
        var running = running
        var handled = 0
        defer { MemoryReturn.noteHandled(handled) }
        guard running.isOpen else {
            await handler.end(&running)
            finish()
            return
        }
        while let event = next(parking: running) {
            handled += 1
            guard await handler.handle(event, &running) else {
                await handler.end(&running)
                finish()
                return
            }
        }
    }

    /// The next event; nil once none waits, after parking the session.
    private func next(parking running: SessionHandler.Running) -> Event? {
        var resumeReading = false
        let event = state.withLock { state -> Event? in
            guard !state.waiting.isEmpty else {
                state.parked = running
                state.pumping = false
                return nil
            }
            let event = state.waiting.removeFirst()
            if case .line = event {
                state.linesWaiting -= 1
                if state.readHeld, state.linesWaiting < Self.maxLinesWaiting {
                    state.readHeld = false
                    resumeReading = true
                }
            }
            return event
        }
        if resumeReading { channel.read() }
        return event
    }

    /// Whether a read from the socket should wait (and is noted as waiting) because enough lines
    /// wait already. Called by `SessionInbound` on the event loop.
    func holdsRead() -> Bool {
        state.withLock { state in
            guard !state.ended, state.linesWaiting >= Self.maxLinesWaiting else { return false }
            state.readHeld = true
            return true
        }
    }

    /// Drops what the session held (its state refers back to these events), closes the
    /// connection and says the session has ended.
    private func finish() {
        state.withLock { state in
            state.ended = true
            state.waiting = []
            state.parked = nil
            state.handler = nil
        }
        channel.close(promise: nil)
        ended.succeed()
    }
}

/// The last handler of a session's pipeline: gives each line, and how the input ended, to the
/// session's events, and holds back reads from the socket while `SessionEvents.maxLinesWaiting`
/// lines wait to be handled.
final class SessionInbound: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let events: SessionEvents
    /// The input has ended (closed, or failed): nothing more is given to the session.
    private var inputEnded = false

    init(_ events: SessionEvents) {
        self.events = events
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !inputEnded else { return }
        events.yield(.line(unwrapInboundIn(data)))
    }

    func read(context: ChannelHandlerContext) {
        guard !events.holdsRead() else { return }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as ClusterSyncError where error.code == .lineTooLong: endInput(with: .lineTooLong)
        case SessionInputError.tooMuchBeforeWelcome: endInput(with: .tooMuchBeforeWelcome)
        default: endInput(with: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { endInput(with: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endInput(with: nil)
        context.fireChannelInactive()
    }

    private func endInput(with event: SessionHandler.Event?) {
        guard !inputEnded else { return }
        inputEnded = true
        if let event { events.yield(event) }
        events.yield(.inboundClosed)
    }
}
