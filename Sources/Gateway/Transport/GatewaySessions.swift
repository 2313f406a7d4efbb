internal import CWebsockets
import Foundation
import Prometheus
import ReadStatesModule
import Snowflake

/// Every gateway WebSocket of the server, on the service thread: performs what each
/// ``SessionMachine`` asks for, applies acks inline, and fans MESSAGE_ACK out to all
/// of a user's sessions.
///
/// Engine calls are made inline (`…IfCached`, which never suspend); only when the
/// user is not cached does a task load them, and the result comes back through the
/// inbox. Nothing here blocks the service thread.
final class GatewaySessions {
    private let engine: ReadStates
    private let tokens: TokenAuthority
    private let directory: ChannelDirectory
    private let messageIDs: SnowflakeGenerator
    private let metrics: GatewayMetrics
    private let configuration: SessionMachine.Configuration
    private let inbox: ServiceInbox
    /// READY's `resume_gateway_url`: set once the context listens (the port may be
    /// the kernel's choice).
    var resumeURL = ""
    private var connections: [Int: WebSocketConnection] = [:]
    private var registry: SessionRegistry
    /// `gateway_dispatches_total` by event name, kept so a dispatch costs no registry lookup.
    private var dispatchCounters: [String: Counter] = [:]

    init(
        engine: ReadStates,
        tokens: TokenAuthority,
        directory: ChannelDirectory,
        messageIDs: SnowflakeGenerator,
        metrics: GatewayMetrics,
        configuration: SessionMachine.Configuration,
        inbox: ServiceInbox
    ) {
        self.engine = engine
        self.tokens = tokens
        self.directory = directory
        self.messageIDs = messageIDs
        self.metrics = metrics
        self.configuration = configuration
        self.inbox = inbox
        registry = SessionRegistry(resumeWindowMilliseconds: configuration.resumeWindowMilliseconds, limits: configuration.resumeHistory)
    }

    var isEmpty: Bool { connections.isEmpty }

    func established(_ id: Int, wsi: OpaquePointer) {
        let machine = SessionMachine(configuration: configuration, tokens: tokens, now: Monotonic.milliseconds())
        let connection = WebSocketConnection(wsi: wsi, machine: machine)
        connections[id] = connection
        metrics.connections.increment()
        _ = connection.enqueue(machine.hello)
    }

    func receive(_ id: Int, _ chunk: UnsafeRawBufferPointer) {
        guard let connection = connections[id] else { return }
        let frame: [UInt8]
        do {
            guard let complete = try connection.receive(chunk) else { return }
            frame = complete
        } catch {
            perform(connection.machine.close(.decodeError), on: id)
            return
        }
        perform(connection.machine.receive(frame, now: Monotonic.milliseconds()), on: id)
    }

    func writable(_ id: Int) -> Int32 {
        connections[id]?.writeNext() ?? 0
    }

    /// The connection is gone: its session waits for a RESUME (unless the server
    /// closed it for cause, which ends the session).
    func closed(_ id: Int) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        metrics.connections.decrement()
        if let code = connection.closing { metrics.closed(code: code.rawValue) }
        guard let sessionID = connection.sessionID else { return }
        guard registry.connection(of: sessionID) == id else { return }
        if let code = connection.closing, code != .goingAway {
            registry.remove(sessionID)
        } else {
            registry.detach(sessionID, now: Monotonic.milliseconds())
        }
    }

    /// Once a second: heartbeat deadlines, and sessions past their resume window.
    func tick() {
        let now = Monotonic.milliseconds()
        registry.expire(now: now)
        metrics.resumeHistoryBytes.set(Double(registry.historyBytes))
        metrics.sessions.set(Double(registry.count))
        for (id, connection) in connections {
            let actions = connection.machine.tick(now: now)
            if !actions.isEmpty { perform(actions, on: id) }
        }
    }

    /// Graceful shutdown: RECONNECT, then close 1001, to every session.
    func goAway() {
        for connection in connections.values {
            _ = connection.enqueue(ServerFrame.reconnect())
            _ = connection.machine.close(.goingAway)
            connection.close(.goingAway)
        }
    }

    // MARK: Actions

    private func perform(_ actions: [SessionMachine.Action], on id: Int) {
        guard let connection = connections[id] else { return }
        for action in actions {
            switch action {
            case .send(let frame):
                send(frame, to: connection)
            case .close(let code):
                connection.close(code)
            case .identify(let user):
                identify(user, connection: id)
            case .resume(let user, let sessionID, let sequence):
                resume(sessionID, user: user, sequence: sequence, connection: id)
            case .request(let user, let payload):
                request(payload, from: user, connection: id)
            }
        }
    }

    private func send(_ frame: [UInt8], to connection: WebSocketConnection) {
        if !connection.enqueue(frame) { connection.close(.unknownError) }
    }

    /// Numbers the dispatch in the session's sequence, keeps it for RESUME, and sends
    /// it if the session is connected.
    private func dispatch(_ type: String, _ data: some Encodable, toSession sessionID: String) {
        dispatch(type, payload: ServerFrame.payload(data), toSession: sessionID)
    }

    private func dispatch(_ type: String, payload: [UInt8], toSession sessionID: String) {
        guard let frame = registry.dispatch(type, payload: payload, to: sessionID) else { return }
        if let counter = dispatchCounters[type] {
            counter.increment()
        } else {
            let counter = metrics.dispatches(type)
            dispatchCounters[type] = counter
            counter.increment()
        }
        if let id = registry.connection(of: sessionID), let connection = connections[id] {
            send(frame, to: connection)
        }
    }

    /// To every session of the user, connected or waiting to be resumed.
    private func dispatch(_ type: String, _ data: some Encodable, toUser user: Snowflake) {
        dispatch(type, payload: ServerFrame.payload(data), toUser: user)
    }

    private func dispatch(_ type: String, payload: [UInt8], toUser user: Snowflake) {
        for sessionID in registry.sessions(of: user) {
            dispatch(type, payload: payload, toSession: sessionID)
        }
    }

    private func dispatch(_ type: String, _ data: some Encodable, toConnection id: Int) {
        guard let sessionID = connections[id]?.sessionID else { return }
        dispatch(type, data, toSession: sessionID)
    }

    private func resume(_ sessionID: String, user: Snowflake, sequence: Int, connection id: Int) {
        guard let connection = connections[id] else { return }
        // The client may notice a dropped connection before the server does: the old
        // one gives way.
        if let previous = registry.connection(of: sessionID), previous != id, let old = connections[previous] {
            old.sessionID = nil
            _ = old.machine.close(.unknownError)
            old.close(.unknownError)
            registry.detach(sessionID, now: Monotonic.milliseconds())
        }
        switch registry.resume(sessionID: sessionID, user: user, sequence: sequence, connection: id) {
        case .success(let frames):
            connection.sessionID = sessionID
            for frame in frames { send(frame, to: connection) }
            dispatch("RESUMED", Optional<Int>.none, toSession: sessionID)
            connection.machine.ready()
        case .failure(.unknownSession):
            send(ServerFrame.invalidSession(resumable: false), to: connection)
            connection.machine.invalidated()
        case .failure(.invalidSequence):
            _ = connection.machine.close(.invalidSequence)
            connection.close(.invalidSequence)
        }
    }

    private func identify(_ user: Snowflake, connection id: Int) {
        connections[id]?.identifiedAt = ContinuousClock.now
        if let states = engine.readStatesIfCached(of: user) {
            sendReady(user: user, states: states, connection: id)
            return
        }
        let engine = engine, inbox = inbox
        Task {
            do {
                inbox.post(.readyLoaded(connection: id, user: user, states: try await engine.readStates(of: user)))
            } catch {
                inbox.post(.readyFailed(connection: id))
            }
        }
    }

    func sendReady(user: Snowflake, states: [ReadState], connection id: Int) {
        guard let connection = connections[id], connection.machine.phase == .identifying(user: user) else { return }
        let sessionID = Self.newSessionID()
        connection.sessionID = sessionID
        registry.create(sessionID: sessionID, user: user, connection: id)
        dispatch(
            "READY",
            ReadyPayload(
                v: 10,
                sessionId: sessionID,
                resumeGatewayUrl: resumeURL,
                user: .init(id: user),
                channels: directory.channels(of: user).map { .init(id: $0.id, name: $0.name, lastMessageId: $0.lastMessageID) },
                readState: ReadStateList(states)
            ),
            toSession: sessionID
        )
        connection.machine.ready()
        if let start = connection.identifiedAt { metrics.readyBuild.record(ContinuousClock.now - start) }
    }

    /// READY could not be built (the store is unreachable): the client may retry.
    func readyFailed(connection id: Int) {
        guard let connection = connections[id] else { return }
        _ = connection.machine.close(.unknownError)
        connection.close(.unknownError)
    }

    private func request(_ payload: ClientPayload, from user: Snowflake, connection id: Int) {
        switch payload {
        case .ack(let channel, let message, let manual, let count):
            ack([(channel, message)], manual: manual, mentionCount: count, user: user, connection: id, op: .ack)
        case .bulkAck(let items):
            ack(items.map { ($0.channelId, $0.messageId) }, manual: false, mentionCount: 0, user: user, connection: id, op: .bulkAck)
        case .sendMessage(let channel, let content, let nonce):
            if case .failure(let error) = sendMessage(content, nonce: nonce, to: channel, from: user, connection: id) {
                requestFailed(connection: id, error)
            }
        case .heartbeat, .identify, .resume:
            break
        }
    }

    private func ack(
        _ items: [(Snowflake, Snowflake)],
        manual: Bool,
        mentionCount: Int,
        user: Snowflake,
        connection id: Int?,
        op: GatewayOpcode
    ) {
        var changes: [ReadStateChange] = []
        var missed: [(Snowflake, Snowflake)] = []
        for (channel, message) in items {
            guard directory.isMember(user, of: channel) else {
                requestFailed(connection: id, .missingAccess(channel, op: op))
                continue
            }
            do {
                let start = ContinuousClock.now
                let inline = try engine.ackIfCached(
                    user: user, channel: channel, messageID: message, manual: manual, mentionCount: mentionCount
                )
                metrics.ackLatency.record(ContinuousClock.now - start)
                if let change = inline {
                    changes.append(change)
                } else {
                    missed.append((channel, message))
                }
            } catch {
                requestFailed(connection: id, .unavailable("\(error)", op: op))
            }
        }
        publish(changes, of: user, manual: manual)
        guard !missed.isEmpty else { return }
        // The user was evicted since READY: load and apply off the service thread.
        let engine = engine, inbox = inbox
        Task {
            var loaded: [ReadStateChange] = []
            do {
                for (channel, message) in missed {
                    loaded.append(
                        try await engine.ack(user: user, channel: channel, messageID: message, manual: manual, mentionCount: mentionCount)
                    )
                }
                inbox.post(.acked(user: user, changes: loaded, manual: manual))
            } catch {
                inbox.post(.acked(user: user, changes: loaded, manual: manual))
                if let id {
                    inbox.post(.requestFailed(connection: id, .unavailable("\(error)", op: op)))
                }
            }
        }
    }

    /// A member's message: a new Snowflake, MESSAGE_CREATE to every connected member,
    /// mentions counted, the channel's newest message moved, the author's read state
    /// acked to it.
    /// - Parameter id: the sending connection (nil for a message that came over HTTP).
    func sendMessage(
        _ content: String,
        nonce: String?,
        to channelID: Snowflake,
        from user: Snowflake,
        connection id: Int?
    ) -> Result<MessageCreate, RequestError> {
        guard let channel = directory.channel(channelID), directory.isMember(user, of: channelID) else {
            return .failure(
                directory.channel(channelID) == nil
                    ? .unknownChannel(channelID, op: .sendMessage, nonce: nonce)
                    : .missingAccess(channelID, op: .sendMessage, nonce: nonce)
            )
        }
        let messageID = messageIDs.next()
        let mentions = MessageMentions(content: content, members: channel.members, author: user)
        directory.recordMessage(messageID, in: channelID)
        let created = MessageCreate(
            id: messageID,
            channelId: channelID,
            author: .init(id: user),
            content: content,
            mentions: mentions.users.map { .init(id: $0) },
            mentionEveryone: mentions.everyone,
            nonce: nonce
        )
        // Encoded once for every member's sessions; only the sequence differs.
        let payload = ServerFrame.payload(created)
        for member in channel.members {
            dispatch("MESSAGE_CREATE", payload: payload, toUser: member)
        }
        // Mentions: inline for cached users; users not in the cache are loaded (and
        // counted) off the service thread.
        var uncached: [Snowflake] = []
        for mentioned in mentions.users {
            let start = ContinuousClock.now
            let inline = try? engine.mentionIfCached(user: mentioned, channel: channelID, messageID: messageID)
            metrics.mentionLatency.record(ContinuousClock.now - start)
            if inline == nil {
                uncached.append(mentioned)
            }
        }
        if !uncached.isEmpty {
            let engine = engine
            Task { _ = try? await engine.mention(users: uncached, channel: channelID, messageID: messageID) }
        }
        ack([(channelID, messageID)], manual: false, mentionCount: 0, user: user, connection: id, op: .sendMessage)
        return .success(created)
    }

    /// MESSAGE_ACK to every session of the user, the acking one included.
    func publish(_ changes: [ReadStateChange], of user: Snowflake, manual: Bool) {
        for change in changes where change.isUpdated {
            dispatch("MESSAGE_ACK", MessageAck(change, manual: manual), toUser: user)
        }
    }

    func requestFailed(connection id: Int?, _ error: RequestError) {
        guard let id else { return }
        dispatch("REQUEST_ERROR", error, toConnection: id)
    }

    private static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// Milliseconds on the monotonic clock, for heartbeat and rate-limit deadlines.
enum Monotonic {
    static func milliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
