import Foundation
import Prometheus
public import ReadStatesModule
public import Snowflake

/// The gateway without sockets: every connection's protocol state, the sessions that
/// can be resumed, who receives what, the engine's inline calls and READY. It takes
/// events (a connection opened, a frame, a tick, a user loaded) and returns
/// ``Action``s (send these bytes to that connection, close it with this code, load
/// this user); the transport performs them and owns nothing of the protocol. The core
/// alone decides that a connection closes.
///
/// Engine calls are inline (`…IfCached`, which never suspend); a user who is not
/// cached is an action for the transport (`loadForReady`, `ackUncached`,
/// `mentionUncached`), whose result comes back as an event.
///
/// ## Threading
/// One owner at a time (the service thread that holds it); it takes no locks. A copy
/// of a core shares its connections' state (``Connection`` is a class, for speed):
/// keep one core per thread, never two copies in use.
public struct GatewayCore {
    /// What the transport must do.
    public enum Action: Sendable, Equatable {
        case send(connection: Int, frame: [UInt8])
        /// A numbered dispatch (``DispatchFrame``: written into the socket's buffer
        /// without being built whole first).
        case dispatch(connection: Int, frame: DispatchFrame)
        /// Send the close frame (after what is queued), then close the connection.
        case close(connection: Int, code: GatewayCloseCode)
        /// A RESUME here took over the session of another thread's connection: that
        /// thread's core closes it (``closeTakenOver(_:_:)``), leaving the session be.
        case closeTakenOver(connection: Int, code: GatewayCloseCode)
        /// Load the user's read states, then call ``readyLoaded(_:user:states:)`` or
        /// ``readyFailed(_:)``.
        case loadForReady(connection: Int, user: Snowflake)
        /// Apply acks of a user who is not cached (a load first), then hand the changes
        /// to ``acked(user:changes:manual:)`` and a failure to ``requestFailed(_:_:)``.
        case ackUncached(UncachedAcks)
        /// Count mentions of users who are not cached (a load first), or whom another
        /// node owns; nothing comes back.
        case mentionUncached(users: [Snowflake], channel: Snowflake, message: Snowflake)
        /// In a cluster: a dispatch delivered here, for the sessions on the other nodes
        /// (`message`: MESSAGE_CREATE's ID).
        case publish(type: String, target: ClusterDispatchTarget, message: Snowflake?, payload: [UInt8])
    }

    /// Which users' read states this node's engine holds: all of them on one node; in
    /// a cluster, those it owns (the others' are asked of their owner, and the
    /// dispatches it makes are published to the other nodes).
    public struct Ownership: Sendable {
        public var isClustered: Bool
        public var owns: @Sendable (Snowflake) -> Bool

        public static let everything = Ownership(isClustered: false, owns: { _ in true })

        public init(isClustered: Bool, owns: @escaping @Sendable (Snowflake) -> Bool) {
            self.isClustered = isClustered
            self.owns = owns
        }
    }

    /// Acks the transport applies off the serving thread.
    public struct UncachedAcks: Sendable, Equatable {
        public var user: Snowflake
        public var items: [AckItem]
        public var manual: Bool
        public var mentionCount: Int
        /// The connection that asked (nil for HTTP), for a REQUEST_ERROR on failure.
        public var connection: Int?
        public var op: GatewayOpcode
    }

    public struct AckItem: Sendable, Equatable {
        public var channel: Snowflake
        public var message: Snowflake
    }

    /// One WebSocket's protocol state. A class, owned by this core alone (never shared
    /// between cores): reading a field of a struct kept in a dictionary copies the whole
    /// struct, retains and all, and did so for every frame sent (8% of the server's CPU
    /// per frame at 1,000 sessions and 3,000 events/s, `perf record --call-graph dwarf`).
    final class Connection {
        var machine: SessionMachine
        /// The session (in the registry) once READY or RESUMED went out, and its user.
        var sessionID: String?
        var sessionUser: Snowflake?
        /// When IDENTIFY arrived, for the READY build-time histogram.
        var identifiedAt: ContinuousClock.Instant?
        /// Set once the core closed it, with the code sent.
        var closing: GatewayCloseCode?
        /// The read-state version IDENTIFY said the client holds (a partial READY).
        var readStateVersion: UInt64?

        init(machine: SessionMachine) {
            self.machine = machine
        }
    }

    let engine: ReadStates
    let directory: ChannelDirectory
    let tokens: TokenAuthority
    let messageIDs: SnowflakeGenerator
    let metrics: GatewayMetrics
    let configuration: SessionMachine.Configuration
    /// How versions go to clients (the store's generation).
    let versions: ReadStateVersions
    /// READY's `resume_gateway_url` (set once the transport knows its port).
    public var resumeURL = ""
    var connections: [Int: Connection] = [:]
    /// Every thread's resumable sessions (registries in shards by user, shared by
    /// every thread's core).
    let sessions: SharedSessions
    /// This core's service thread, and how many there are: a connection ID carries its
    /// thread in its low 8 bits (``thread(of:)``).
    public let thread: Int
    public let threadCount: Int
    /// `gateway_dispatches_total` by event name, kept so a dispatch costs no registry lookup.
    /// Searched in order, not hashed: a handful of event names, short enough for
    /// Swift's inline strings, so `==` compares two words where a dictionary hashed the
    /// name on every dispatch (0.4% of the gateway's CPU in `perf`).
    private var dispatchCounters: [(type: String, counter: Counter)] = []
    /// Which users this node owns (``Ownership/everything`` on one node).
    public var ownership = Ownership.everything
    /// Where new session IDs come from (injectable so tests can predict them).
    var newSessionID: () -> String = GatewayCore.randomSessionID

    public init(
        engine: ReadStates,
        directory: ChannelDirectory,
        tokens: TokenAuthority,
        messageIDs: SnowflakeGenerator,
        metrics: GatewayMetrics,
        configuration: SessionMachine.Configuration,
        versions: ReadStateVersions = .random(),
        sessions: SharedSessions? = nil,
        thread: Int = 0,
        threadCount: Int = 1
    ) {
        self.versions = versions
        self.thread = thread
        self.threadCount = threadCount
        self.sessions = sessions ?? SharedSessions(
            shards: 1, resumeWindowMilliseconds: configuration.resumeWindowMilliseconds, limits: configuration.resumeHistory
        )
        self.engine = engine
        self.directory = directory
        self.tokens = tokens
        self.messageIDs = messageIDs
        self.metrics = metrics
        self.configuration = configuration
    }

    public var isEmpty: Bool { connections.isEmpty }

    /// Sessions known, connected or waiting for a RESUME.
    public var sessionCount: Int { sessions.count }

    /// The service thread a connection ID belongs to.
    public static func thread(of connection: Int) -> Int { connection & 0xFF }

    /// Whether the connection is this core's (always, with one thread).
    func isLocal(_ connection: Int) -> Bool {
        threadCount == 1 || Self.thread(of: connection) == thread
    }

    // MARK: Connections

    /// A WebSocket opened: HELLO.
    public mutating func connected(_ id: Int, now: UInt64) -> [Action] {
        let machine = SessionMachine(configuration: configuration, tokens: tokens, now: now)
        connections[id] = Connection(machine: machine)
        metrics.connections.increment()
        return [.send(connection: id, frame: machine.hello)]
    }

    /// One complete text frame from the client.
    public mutating func received(_ id: Int, frame: [UInt8], now: UInt64) -> [Action] {
        guard let actions = connections[id]?.machine.receive(frame, now: now) else { return [] }
        return perform(actions, on: id, now: now)
    }

    /// The transport could not take the client's frame (binary, or over the size limit)
    /// or its connect options (an unknown `compress` or `encoding`): close 4002.
    public mutating func undecodable(_ id: Int) -> [Action] {
        close(id, .decodeError)
    }

    /// The connection's unsent backlog passed its bound: its client does not read.
    public mutating func backlogExceeded(_ id: Int) -> [Action] {
        close(id, .unknownError)
    }

    /// The connection is gone: its session waits for a RESUME, unless the server
    /// closed it for cause (which ends the session).
    public mutating func disconnected(_ id: Int, now: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        metrics.connections.decrement()
        if let code = connection.closing { metrics.closed(code: code.rawValue) }
        guard let sessionID = connection.sessionID, let user = connection.sessionUser else { return }
        let end = connection.closing.map { $0 != .goingAway } ?? false
        sessions.disconnected(sessionID, user: user, connection: id, end: end, now: now)
    }

    /// Once a second: heartbeat deadlines, and sessions past their resume window.
    public mutating func tick(now: UInt64) -> [Action] {
        // The sessions are every thread's: one thread looks after them.
        if thread == 0 {
            sessions.expire(now: now)
            let totals = sessions.totals
            metrics.resumeHistoryBytes.set(Double(totals.bytes))
            metrics.sessions.set(Double(totals.count))
        }
        var actions: [Action] = []
        for id in Array(connections.keys) {
            guard let machineActions = connections[id]?.machine.tick(now: now), !machineActions.isEmpty else { continue }
            actions += perform(machineActions, on: id, now: now)
        }
        return actions
    }

    /// Graceful shutdown: RECONNECT, then close 1001, to every connection.
    public mutating func goAway() -> [Action] {
        var actions: [Action] = []
        for id in Array(connections.keys) where connections[id]?.closing == nil {
            actions.append(.send(connection: id, frame: ServerFrame.reconnect()))
            actions += close(id, .goingAway)
        }
        return actions
    }

    /// Another thread's core closed this connection: a RESUME elsewhere took its
    /// session over (the session has left it already).
    public mutating func closeTakenOver(_ id: Int, _ code: GatewayCloseCode) -> [Action] {
        connections[id]?.sessionID = nil
        return close(id, code)
    }

    /// Closes a connection (once): the one place a close is decided.
    mutating func close(_ id: Int, _ code: GatewayCloseCode) -> [Action] {
        guard let connection = connections[id], connection.closing == nil else { return [] }
        _ = connection.machine.close(code)
        connection.closing = code
        // Dispatches from now on are kept for RESUME, not sent (on every thread).
        if let sessionID = connection.sessionID, let user = connection.sessionUser {
            sessions.closing(sessionID, user: user, connection: id)
        }
        return [.close(connection: id, code: code)]
    }

    private mutating func perform(_ machineActions: [SessionMachine.Action], on id: Int, now: UInt64) -> [Action] {
        var actions: [Action] = []
        for action in machineActions {
            switch action {
            case .send(let frame):
                actions.append(.send(connection: id, frame: frame))
            case .close(let code):
                actions.append(taking: close(id, code))
            case .identify(let user, let readStateVersion):
                connections[id]?.readStateVersion = readStateVersion
                actions.append(taking: identify(user, connection: id))
            case .resume(let user, let sessionID, let sequence):
                actions.append(taking: resume(sessionID, user: user, sequence: sequence, connection: id, now: now))
            case .request(let user, let payload):
                actions.append(taking: request(payload, from: user, connection: id))
            }
        }
        return actions
    }

    // MARK: Dispatches

    private mutating func counted(_ type: String, _ times: Int = 1) {
        guard times > 0 else { return }
        if let known = dispatchCounters.first(where: { $0.type == type }) {
            known.counter.increment(by: Int64(times))
        } else {
            let counter = metrics.dispatches(type)
            dispatchCounters.append((type, counter))
            counter.increment(by: Int64(times))
        }
    }

    /// Numbers the dispatch in the session's sequence, keeps it for RESUME, and sends
    /// it if the session is connected: here if the connection is this thread's, through
    /// its thread otherwise (which drops it if that connection has closed meanwhile).
    /// The registry knows which connections are closing (``close(_:_:)`` tells it), so
    /// a recipient costs no lookup here.
    mutating func dispatch(_ type: String, writing payload: some JSONWritable & Sendable, toSession sessionID: String, of user: Snowflake) -> [Action] {
        guard let (connection, frame) = sessions.dispatch(type, writing: payload, toSession: sessionID, of: user) else { return [] }
        counted(type)
        guard let id = connection else { return [] }
        return [.dispatch(connection: id, frame: frame)]
    }

    /// To every session of the user, connected or waiting to be resumed, on any thread:
    /// the one call that delivers a dispatch to a user.
    public mutating func dispatch(_ type: String, payload: [UInt8], toUser user: Snowflake) -> [Action] {
        var actions: [Action] = []
        dispatch(type, payload: payload, toUsers: CollectionOfOne(user), into: &actions)
        return actions
    }

    /// The same to each of `users`, appended to `actions`: one pass over the sessions
    /// (one lock with one thread), no array per user.
    mutating func dispatch(_ type: String, payload: [UInt8], toUsers users: some Collection<Snowflake>, into actions: inout [Action]) {
        var frames = 0
        sessions.dispatch(type, sharing: payload, toUsers: users) { connection, frame in
            frames += 1
            if let id = connection { actions.append(.dispatch(connection: id, frame: frame)) }
        }
        counted(type, frames)
    }

    mutating func dispatch(_ type: String, _ data: some Encodable, toConnection id: Int) -> [Action] {
        guard let connection = connections[id], let sessionID = connection.sessionID, let user = connection.sessionUser else { return [] }
        return dispatch(type, writing: EncodedJSON(ServerFrame.payload(data)), toSession: sessionID, of: user)
    }

    // MARK: IDENTIFY and RESUME

    private mutating func identify(_ user: Snowflake, connection id: Int) -> [Action] {
        connections[id]?.identifiedAt = ContinuousClock.now
        if ownership.owns(user), let states = engine.readStatesIfCached(of: user) {
            return sendReady(id, user: user, states: states, versions: versions)
        }
        return [.loadForReady(connection: id, user: user)]
    }

    /// The user's read states are loaded (here, or by their owner, in its `versions`):
    /// READY.
    public mutating func readyLoaded(_ id: Int, user: Snowflake, states: [ReadState], versions: ReadStateVersions? = nil) -> [Action] {
        sendReady(id, user: user, states: states, versions: versions ?? self.versions)
    }

    /// Dispatches from another node, to this node's sessions of `users` (not published
    /// again).
    public mutating func deliverFromCluster(_ type: String, payload: [UInt8], toUsers users: [Snowflake]) -> [Action] {
        var actions: [Action] = []
        dispatch(type, payload: payload, toUsers: users, into: &actions)
        return actions
    }

    /// READY could not be built (the store is unreachable): close 4000, the client may
    /// retry. No session was created.
    public mutating func readyFailed(_ id: Int) -> [Action] {
        close(id, .unknownError)
    }

    private mutating func sendReady(_ id: Int, user: Snowflake, states: [ReadState], versions: ReadStateVersions) -> [Action] {
        guard let connection = connections[id], connection.closing == nil, connection.machine.phase == .identifying(user: user) else {
            return []
        }
        let sessionID = newSessionID()
        connections[id]?.sessionID = sessionID
        connections[id]?.sessionUser = user
        let ready = ReadyPayload(
            v: 10,
            sessionId: sessionID,
            resumeGatewayUrl: resumeURL,
            user: .init(id: user),
            channels: directory.summaries(of: user),
            readState: ReadStateList(states, versions: versions, since: connection.readStateVersion)
        )
        // Created and READY numbered in one step: no other thread's dispatch comes first.
        var actions: [Action] = []
        if let frame = sessions.create(sessionID: sessionID, user: user, connection: id, first: "READY", writing: ready) {
            counted("READY")
            actions.append(.send(connection: id, frame: frame))
        }
        connections[id]?.machine.ready()
        if let start = connection.identifiedAt { metrics.readyBuild.record(ContinuousClock.now - start) }
        return actions
    }

    private mutating func resume(_ sessionID: String, user: Snowflake, sequence: Int, connection id: Int, now: UInt64) -> [Action] {
        var actions: [Action] = []
        let resumed = sessions.resume(sessionID: sessionID, user: user, sequence: sequence, connection: id, now: now)
        // The client may notice a dropped connection before the server does: the old
        // one gives way, on whichever thread it is.
        if let previous = resumed.previous {
            if isLocal(previous) {
                actions += closeTakenOver(previous, .unknownError)
            } else {
                actions.append(.closeTakenOver(connection: previous, code: .unknownError))
            }
        }
        switch resumed.frames {
        case .success(let frames):
            connections[id]?.sessionID = sessionID
            connections[id]?.sessionUser = user
            actions += frames.map { .send(connection: id, frame: $0) }
            counted("RESUMED")
            connections[id]?.machine.ready()
        case .failure(.unknownSession):
            actions.append(.send(connection: id, frame: ServerFrame.invalidSession(resumable: false)))
            connections[id]?.machine.invalidated()
        case .failure(.invalidSequence):
            actions += close(id, .invalidSequence)
        }
        return actions
    }

    /// 32 hex digits from 128 random bits. (Sixteen `String(format:)` calls cost tens
    /// of microseconds per READY, measured with `readstates bench ready`.)
    private static func randomSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        for _ in 0..<2 {
            var bits = generator.next()
            for _ in 0..<16 {
                digits.append(hex[Int(bits & 0xF)])
                bits >>= 4
            }
        }
        return String(decoding: digits, as: UTF8.self)
    }
}

extension Array where Element == GatewayCore.Action {
    /// Appends `more`, taking its storage when this array is empty (the usual case: one
    /// client payload, one list of actions): `+=` copied every action, a retain and a
    /// release of each frame, on every frame the core handled.
    mutating func append(taking more: [Element]) {
        if isEmpty { self = more } else { append(contentsOf: more) }
    }
}
