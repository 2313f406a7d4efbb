import Foundation
import Gateway
import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

/// A persistence whose loads for one user wait until the test opens a gate.
final class SlowUserPersistence: ReadStatesPersistence {
    let slowUser: Snowflake
    private let gate = Mutex<[CheckedContinuation<Void, Never>]?>([])

    init(slowUser: Snowflake) {
        self.slowUser = slowUser
    }

    func load(user: Snowflake) async throws -> [ReadState] {
        guard user == slowUser else { return [] }
        await withCheckedContinuation { continuation in
            let waiting = gate.withLock { waiters -> Bool in
                guard waiters != nil else { return false }
                waiters?.append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
        return []
    }

    func evicted(user: Snowflake, dirtyStates: [ReadState]) {}

    /// Waits (up to 20 s) until a load of the slow user is held at the gate.
    /// - Returns: whether one is.
    func waitUntilLoading() async -> Bool {
        for _ in 0..<4000 {
            if gate.withLock({ ($0?.count ?? 0) > 0 }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    func open() {
        let waiters = gate.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        waiters.forEach { $0.resume() }
    }
}

/// The HTTP API through libwebsockets on a real port. Client calls block, so
/// ``RawHTTP`` runs them on a thread of their own, never in the task pool the server
/// answers from.
@Suite(.timeLimit(.minutes(3))) struct GatewayServerTests {
    let tokens = TokenAuthority(secret: Data(repeating: 2, count: 32))

    func http(
        _ port: Int32, _ method: String, _ path: String, headers: [String: String] = [:], body: String = ""
    ) async throws -> RawHTTP.Response {
        try await RawHTTP.request(port: port, method, path, headers: headers, body: body)
    }

    func startServer(_ persistence: any ReadStatesPersistence = InMemoryReadStatesPersistence()) throws -> (GatewayServer, ReadStates) {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: persistence)
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(
                engine: engine,
                tokens: tokens,
                directory: ChannelDirectory([ChatChannel(id: id(10), name: "general", members: [id(1), id(2)])]),
                serving: { true }
            )
        )
        return (server, engine)
    }

    @Test func servesHealthAndAcksOverHTTP() async throws {
        let (server, engine) = try startServer()
        defer { server.stop() }
        let port = server.port
        let health = try await http(port, "GET", "/health")
        #expect(health.status == 200)
        #expect(health.json?["status"] as? String == "ok")

        let auth = ["Authorization": tokens.mint(user: id(1))]
        let ack = try await http(
            port, "POST", "/api/channels/\(id(10).rawValue)/messages/\(id(5).rawValue)/ack",
            headers: auth, body: #"{"manual": true, "mention_count": 2}"#
        )
        #expect(ack.status == 200)
        #expect(ack.json?["mention_count"] as? Int == 2)
        #expect(engine.readStatesIfCached(of: id(1))?.first?.lastMessageID == id(5))

        #expect(try await http(port, "POST", "/api/channels/x/messages/1/ack", headers: auth).status == 400)
        #expect(try await http(port, "GET", "/api/users/@me/read-states").status == 401)
        let tooLarge = try await http(
            port, "POST", "/api/channels/1/messages/1/ack", headers: auth, body: String(repeating: " ", count: 20_000)
        )
        #expect(tooLarge.status == 413)
        let metrics = try await http(port, "GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("# TYPE gateway_connections gauge"))
        // The server still serves after bad requests.
        #expect(try await http(port, "GET", "/health").status == 200)
    }

    @Test func aRequestWaitingForALoadDoesNotHoldUpOthers() async throws {
        let persistence = SlowUserPersistence(slowUser: id(1))
        let (server, _) = try startServer(persistence)
        defer { server.stop() }
        let port = server.port
        let slowToken = tokens.mint(user: id(1))
        let slow = Task { try await http(port, "GET", "/api/users/@me/read-states", headers: ["Authorization": slowToken]) }
        #expect(await persistence.waitUntilLoading())
        // While user 1's load waits, user 2 is answered.
        let fast = try await http(
            port, "POST", "/api/channels/\(id(10).rawValue)/messages/\(id(5).rawValue)/ack",
            headers: ["Authorization": tokens.mint(user: id(2))]
        )
        #expect(fast.status == 200)
        persistence.open()
        #expect(try await slow.value.status == 200)
    }

    @Test func stopClosesThePort() async throws {
        let (server, _) = try startServer()
        let port = server.port
        #expect(try await http(port, "GET", "/health").status == 200)
        server.stop()
        server.stop()
        await #expect(throws: (any Error).self) { try await http(port, "GET", "/health") }
    }
}
