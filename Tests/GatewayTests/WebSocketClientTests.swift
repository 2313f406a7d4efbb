import LWSTransport
import Foundation
import Gateway
import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

/// What a test's client saw, readable from the test while the client's service
/// thread writes it.
final class ClientLog: Sendable {
    enum Entry: Sendable, Equatable {
        case opened(Int)
        case message(Int, String)
        case closed(Int, ClientCloseReason)
        case notice(String)
    }

    private let entries = Mutex<[Entry]>([])

    func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    var all: [Entry] { entries.withLock { $0 } }

    var messages: [String] {
        all.compactMap { if case .message(_, let text) = $0 { text } else { nil } }
    }

    var closes: [ClientCloseReason] {
        all.compactMap { if case .closed(_, let reason) = $0 { reason } else { nil } }
    }

    /// Waits (without blocking a thread of the pool) until `condition` holds.
    func wait(seconds: Double = 20, until condition: ([Entry]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition(all) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(all)
    }
}

/// A delegate that logs everything and, when given a token, runs a
/// ``GatewayClientSession`` (identify, heartbeats, reconnect and resume).
final class LoggingDelegate: WebSocketClientDelegate {
    let log: ClientLog
    var session: GatewayClientSession?
    var endpoint: WebSocketEndpoint?
    var current: Int?
    var onOpen: ((Int, ClientConnections) -> Void)?

    init(log: ClientLog, token: String? = nil, endpoint: WebSocketEndpoint? = nil) {
        self.log = log
        self.endpoint = endpoint
        session = token.map { GatewayClientSession(token: $0, url: endpoint?.description ?? "") }
    }

    func opened(_ connection: Int, client: ClientConnections) {
        log.append(.opened(connection))
        current = connection
        session?.connected()
        onOpen?(connection, client)
    }

    func received(_ message: [UInt8], on connection: Int, client: ClientConnections) {
        log.append(.message(connection, String(decoding: message, as: UTF8.self)))
        guard session != nil, let decoded = try? ServerMessage.decode(message) else { return }
        perform(session!.received(decoded, now: 0), client)
    }

    func closed(_ connection: Int, _ reason: ClientCloseReason, client: ClientConnections) {
        log.append(.closed(connection, reason))
        guard session != nil, connection == current else { return }
        current = nil
        perform(session!.closed(reason), client)
    }

    func tick(client: ClientConnections) {}

    private func perform(_ actions: [GatewayClientSession.Action], _ client: ClientConnections) {
        for action in actions {
            switch action {
            case .send(let frame): if let current { client.send(frame, on: current) }
            case .notice(let text): log.append(.notice(text))
            case .reconnect:
                guard let endpoint else { break }
                session?.connecting()
                current = client.connect(to: endpoint)
            case .fail(let text): log.append(.notice("fail: \(text)"))
            case .event: break
            }
        }
    }
}

/// The libwebsockets client over real sockets, against the echo server and the gateway.
@Suite(.serialized, .timeLimit(.minutes(3))) struct WebSocketClientTests {
    let tokens = TokenAuthority(secret: Data(repeating: 3, count: 32))

    func gateway() throws -> GatewayServer {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        return try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(
                engine: engine, tokens: tokens,
                directory: ChannelDirectory([ChatChannel(id: id(10), name: "general", members: [id(1), id(2)])]),
                serving: { true }
            )
        )
    }

    @Test func echoesSmallAndLargeMessagesInOrderAndClosesCleanly() async throws {
        let echo = try EchoServer(port: 0)
        defer { echo.stop() }
        let log = ClientLog()
        let delegate = LoggingDelegate(log: log)
        let large = String(repeating: "0123456789", count: 20_000)
        let sent = (0..<50).map { "message \($0)" } + [large]
        delegate.onOpen = { id, client in
            for text in sent { client.send(Array(text.utf8), on: id) }
        }
        let client = try WebSocketClient(delegate: delegate)
        defer { client.stop() }
        let endpoint = WebSocketEndpoint(host: "127.0.0.1", port: Int(echo.port), path: "/")
        client.post { $0.connect(to: endpoint) }
        #expect(await log.wait { _ in log.messages.count == sent.count })
        #expect(log.messages == sent)
        client.post { connections in connections.close(1, code: 1000, reason: "done") }
        #expect(await log.wait { _ in log.closes == [.local] })
    }

    @Test func aRefusedConnectIsReported() async throws {
        guard let port = LoopbackPort.free() else { Issue.record("no free port"); return }
        let log = ClientLog()
        let client = try WebSocketClient(delegate: LoggingDelegate(log: log))
        defer { client.stop() }
        client.post { $0.connect(to: WebSocketEndpoint(host: "127.0.0.1", port: Int(port))) }
        #expect(await log.wait { _ in !log.closes.isEmpty })
        guard case .connectFailed = log.closes.first else {
            Issue.record("expected a connect failure, got \(log.closes)"); return
        }
    }

    @Test func theServersCloseCodeReachesTheClient() async throws {
        let server = try gateway()
        defer { server.stop() }
        let log = ClientLog()
        let delegate = LoggingDelegate(log: log)
        let client = try WebSocketClient(delegate: delegate)
        defer { client.stop() }
        let endpoint = WebSocketEndpoint(host: "127.0.0.1", port: Int(server.port))
        client.post { connections in
            let id = connections.connect(to: endpoint)
            _ = id
        }
        #expect(await log.wait { _ in log.messages.contains { $0.contains(#""op":10"#) } })
        client.post { connections in connections.send(ClientPayload.identify(token: "forged.token.x").frame, on: 1) }
        #expect(await log.wait { _ in !log.closes.isEmpty })
        #expect(log.closes == [.peer(code: 4004, reason: "authentication failed")])
    }

    @Test func aDroppedSessionResumesAndGetsWhatItMissed() async throws {
        let server = try gateway()
        defer { server.stop() }
        let endpoint = WebSocketEndpoint(host: "127.0.0.1", port: Int(server.port))
        let log = ClientLog()
        let client = try WebSocketClient(delegate: LoggingDelegate(log: log, token: tokens.mint(user: id(1)), endpoint: endpoint))
        defer { client.stop() }
        client.post { $0.connect(to: endpoint) }
        #expect(await log.wait { _ in log.messages.contains { $0.contains(#""t":"READY""#) } })

        // Drop the TCP connection without a close frame, as a network failure would.
        client.post { connections in connections.abort(1) }
        #expect(await log.wait { _ in log.closes.contains(.dropped) })
        // A message for the user while it is away (the server may or may not have
        // noticed the drop yet): RESUME replays it or it arrives live after RESUMED.
        let auth = ["Authorization": tokens.mint(user: id(2))]
        let port = server.port
        let posted = try await RawHTTP.request(
            port: port, "POST", "/api/channels/\(id(10).rawValue)/messages", headers: auth, body: #"{"content":"while away"}"#
        )
        #expect(posted.status == 200)
        #expect(await log.wait { _ in log.messages.contains { $0.contains(#""t":"RESUMED""#) } })
        #expect(await log.wait { _ in log.messages.contains { $0.contains("while away") } })
        #expect(log.all.contains(.notice("resumed")))
        #expect(!log.messages.contains { $0.contains(#""op":9"#) })
    }
}
