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

    func open() {
        let waiters = gate.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        waiters.forEach { $0.resume() }
    }
}

/// The HTTP API through libwebsockets on a real port.
@Suite(.serialized) struct GatewayServerTests {
    let tokens = TokenAuthority(secret: Data(repeating: 2, count: 32))

    @Test func servesHealthAndAcksOverHTTP() throws {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, serving: { true })
        )
        defer { server.stop() }
        let health = try RawHTTP.request(port: server.port, "GET", "/health")
        #expect(health.status == 200)
        #expect(health.json?["status"] as? String == "ok")

        let auth = ["Authorization": tokens.mint(user: id(1))]
        let ack = try RawHTTP.request(
            port: server.port, "POST", "/api/channels/\(id(10).rawValue)/messages/\(id(5).rawValue)/ack",
            headers: auth, body: #"{"manual": true, "mention_count": 2}"#
        )
        #expect(ack.status == 200)
        #expect(ack.json?["mention_count"] as? Int == 2)
        #expect(engine.readStatesIfCached(of: id(1))?.first?.lastMessageID == id(5))

        let bad = try RawHTTP.request(port: server.port, "POST", "/api/channels/x/messages/1/ack", headers: auth)
        #expect(bad.status == 400)
        let unauthorized = try RawHTTP.request(port: server.port, "GET", "/api/users/@me/read-states")
        #expect(unauthorized.status == 401)
        let tooLarge = try RawHTTP.request(
            port: server.port, "POST", "/api/channels/1/messages/1/ack", headers: auth,
            body: String(repeating: " ", count: 10_000)
        )
        #expect(tooLarge.status == 413)
        // The server still serves after bad requests.
        #expect(try RawHTTP.request(port: server.port, "GET", "/health").status == 200)
    }

    /// The blocking HTTP calls run on threads of their own: blocking the few threads of
    /// Swift's task pool would starve the server's own request tasks.
    @Test func aRequestWaitingForALoadDoesNotHoldUpOthers() throws {
        let persistence = SlowUserPersistence(slowUser: id(1))
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: persistence)
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, serving: { true })
        )
        defer { server.stop() }
        let port = server.port
        let slowToken = tokens.mint(user: id(1))
        let slowStatus = Mutex<Int?>(nil)
        let slowDone = DispatchSemaphore(value: 0)
        Thread {
            let response = try? RawHTTP.request(port: port, "GET", "/api/users/@me/read-states", headers: ["Authorization": slowToken])
            slowStatus.withLock { $0 = response?.status }
            slowDone.signal()
        }.start()
        // While user 1's load waits, user 2 is answered.
        let fast = try RawHTTP.request(
            port: port, "POST", "/api/channels/\(id(10).rawValue)/messages/\(id(5).rawValue)/ack",
            headers: ["Authorization": tokens.mint(user: id(2))]
        )
        #expect(fast.status == 200)
        #expect(slowStatus.withLock { $0 } == nil)
        persistence.open()
        slowDone.wait()
        #expect(slowStatus.withLock { $0 } == 200)
    }

    @Test func stopClosesThePort() throws {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let server = try GatewayServer(configuration: .init(port: 0), rest: RESTAPI(engine: engine, tokens: tokens, serving: { true }))
        let port = server.port
        #expect(try RawHTTP.request(port: port, "GET", "/health").status == 200)
        server.stop()
        server.stop()
        #expect(throws: (any Error).self) { try RawHTTP.request(port: port, "GET", "/health") }
    }
}
