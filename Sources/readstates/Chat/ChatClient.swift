import LWSTransport
import Foundation
import Gateway
import Synchronization

/// `readstates chat` on the client's service thread: one gateway connection, its
/// ``GatewayClientSession`` (identify, heartbeats, resume) and the ``ChatRoom``
/// the person sees.
final class ChatClient: WebSocketClientDelegate {
    private let console: ChatConsole
    private let outcome: ChatOutcome
    private var session: GatewayClientSession
    private var room = ChatRoom()
    private var endpoint: WebSocketEndpoint
    /// `--url`: asked where to connect before every connection (``GatewayLookup``).
    private let seed: WebSocketEndpoint
    private let token: String
    private var connection: Int?
    private var reconnectAt: UInt64?
    /// Lines typed before READY (a pipe delivers them at once): run after it.
    private var pendingInput: [String] = []
    private var quitting = false
    /// When `/quit` arrived while the session was not ready.
    private var quitRequestedAt: UInt64?
    /// How long a `/quit` waits for the session to become ready.
    private static let quitWaitMilliseconds: UInt64 = 5_000

    init(endpoint: WebSocketEndpoint, token: String, console: ChatConsole, outcome: ChatOutcome) {
        self.endpoint = endpoint
        seed = endpoint
        self.token = token
        self.console = console
        self.outcome = outcome
        session = GatewayClientSession(token: token, url: endpoint.description, keepsReadStates: true)
    }

    func start(_ client: ClientConnections) {
        connect(client)
    }

    private func connect(_ client: ClientConnections) {
        // In a cluster: the node that owns this user (after a node died, a survivor),
        // asked of --url first, then of the node last used.
        if let owner = GatewayLookup.gateway(for: token, asking: seed) ?? GatewayLookup.gateway(for: token, asking: endpoint),
            owner != endpoint
        {
            endpoint = owner
        }
        console.print("connecting to \(endpoint)")
        session.connecting()
        connection = client.connect(toGateway: endpoint)
    }

    // MARK: WebSocketClientDelegate

    func opened(_ id: Int, client: ClientConnections) {
        guard id == connection else { return }
        session.connected()
    }

    func received(_ message: [UInt8], on id: Int, client: ClientConnections) {
        guard id == connection else { return }
        do {
            perform(session.received(try ServerMessage.decode(message), now: Self.now()), client)
        } catch {
            console.error("\(error)")
        }
    }

    func closed(_ id: Int, _ reason: ClientCloseReason, client: ClientConnections) {
        guard id == connection else { return }
        connection = nil
        if quitting {
            client.finish()
            return
        }
        perform(session.closed(reason), client)
    }

    func tick(client: ClientConnections) {
        let now = Self.now()
        if let asked = quitRequestedAt, !quitting, now >= asked + Self.quitWaitMilliseconds {
            return leaveUnready(client)
        }
        if let at = reconnectAt, now >= at {
            reconnectAt = nil
            connect(client)
        }
        if connection != nil { perform(session.tick(now: now), client) }
    }

    // MARK: Input

    /// A line the person typed (or piped).
    func input(_ line: String, _ client: ClientConnections) {
        guard session.phase == .ready, pendingInput.isEmpty else {
            pendingInput.append(line)
            if line.trimmingCharacters(in: .whitespaces) == "/quit", quitRequestedAt == nil {
                // Lines before it run once the session is ready, but leaving does not
                // wait long for a server that cannot be reached.
                quitRequestedAt = Self.now()
                if session.phase == .disconnected { leaveUnready(client) }
            }
            return
        }
        run(line, client)
    }

    /// `/quit` while the session is not ready: leave, saying what did not run.
    private func leaveUnready(_ client: ClientConnections) {
        let skipped = pendingInput.count - 1
        if skipped > 0 { console.print("-- leaving without running \(skipped) line\(skipped == 1 ? "" : "s") typed while not connected") }
        pendingInput = []
        quit(client)
    }

    /// Lines typed while the session was not ready, in order.
    private func runPendingInput(_ client: ClientConnections) {
        let waiting = pendingInput
        pendingInput = []
        for line in waiting { run(line, client) }
    }

    /// Standard input ended: leave once the lines before it have run.
    func inputEnded(_ client: ClientConnections) {
        input("/quit", client)
    }

    private func run(_ line: String, _ client: ClientConnections) {
        if line.trimmingCharacters(in: .whitespaces) == "/reconnect" {
            guard let connection else { return console.print("not connected") }
            console.print("dropping the connection")
            client.abort(connection)
            return
        }
        show(room.input(line), client)
    }

    // MARK: Actions

    private func perform(_ actions: [GatewayClientSession.Action], _ client: ClientConnections) {
        for action in actions {
            switch action {
            case .send(let frame):
                if let connection { client.send(frame, on: connection) }
            case .event(let event):
                handle(event, client)
            case .notice(let text):
                console.print("-- \(text)")
            case .reconnect(let delay, let url):
                if let connection { client.close(connection, code: 4900, reason: "reconnecting") }
                connection = nil
                if let next = try? WebSocketEndpoint(url: url) {
                    var next = next
                    next.allowSelfSigned = endpoint.allowSelfSigned
                    endpoint = next
                }
                reconnectAt = Self.now() + delay
            case .fail(let message):
                console.error("readstates chat: \(message)")
                outcome.fail()
                quit(client)
            }
        }
    }

    private func handle(_ event: ServerMessage.DispatchEvent, _ client: ClientConnections) {
        switch event {
        case .ready(let ready):
            show(room.ready(ready), client)
            runPendingInput(client)
        case .resumed:
            runPendingInput(client)
        case .messageCreate(let message):
            show(room.messageCreated(message), client)
        case .messageAck(let ack):
            show(room.messageAcked(ack), client)
        case .requestError(let error):
            show(room.requestError(error), client)
        case .other:
            break
        }
    }

    private func show(_ outputs: [ChatRoom.Output], _ client: ClientConnections) {
        for output in outputs {
            switch output {
            case .line(let text): console.print(text)
            case .send(let payload): if let connection { client.send(payload.frame, on: connection) }
            case .quit: quit(client)
            }
        }
    }

    private func quit(_ client: ClientConnections) {
        quitting = true
        reconnectAt = nil
        if let connection {
            client.close(connection, code: 1000, reason: "bye")
        } else {
            client.finish()
        }
    }

    private static func now() -> UInt64 {
        BenchClock.nanoseconds() / 1_000_000
    }
}

/// How the chat ended, for the exit status: written on the service thread, read by
/// the main thread after the client stopped.
final class ChatOutcome: Sendable {
    private let failure = Atomic<Bool>(false)

    var failed: Bool { failure.load(ordering: .acquiring) }

    func fail() {
        failure.store(true, ordering: .releasing)
    }
}
