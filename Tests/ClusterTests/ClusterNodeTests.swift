import Cluster
import Foundation
import Logging
import Testing
import TestSupport

/// Nodes against a real Redis server (Debian's package, started by the test).
@Suite struct ClusterNodeTests {
    enum Event: Sendable, Equatable {
        case members([String])
        case health(ClusterNode.Health)
        case message(from: String, String)
    }

    /// A node whose handlers record what it hears; requests are answered with
    /// "re: BODY", except "silent", which is never answered.
    static func node(
        _ id: String, redis: RedisTestServer, events: Events<Event>, ttl: UInt64 = 3_000, requestTimeout: UInt64 = 2_000
    ) throws -> ClusterNode {
        var configuration = ClusterNode.Configuration(redis: try RedisURL(parsing: redis.url), nodeID: id, advertiseURL: "ws://\(id)/gateway")
        configuration.ttlMilliseconds = ttl
        configuration.heartbeatMilliseconds = min(1_000, ttl / 3)
        configuration.requestTimeoutMilliseconds = requestTimeout
        var handlers = ClusterNode.Handlers()
        handlers.message = { from, body in events.record(.message(from: from, String(decoding: body, as: UTF8.self))) }
        handlers.request = { _, body, reply in
            let text = String(decoding: body, as: UTF8.self)
            if text != "silent" { reply(.success(Array("re: \(text)".utf8))) }
        }
        handlers.membership = { _, after, _ in events.record(.members(after.ids)) }
        handlers.health = { events.record(.health($0)) }
        return try ClusterNode(configuration: configuration, handlers: handlers, logger: Logger(label: "test.\(id)"))
    }

    @Test func twoNodesSeeEachOtherTalkAndAskAndALeaveIsSeenAtOnce() async throws {
        let redis = try await RedisTestServer()
        let eventsA = Events<Event>(), eventsB = Events<Event>()
        // A long TTL: the leave below must be seen long before it could run out.
        let a = try Self.node("a", redis: redis, events: eventsA, ttl: 30_000, requestTimeout: 500)
        let b = try Self.node("b", redis: redis, events: eventsB, ttl: 30_000)
        let workerA = try await a.start()
        let workerB = try await b.start()
        #expect(workerA != workerB && min(workerA, workerB) >= ClusterNode.reservedWorkerNumbers)
        _ = try await eventsA.next("a sees a and b", within: 10) { $0 == .members(["a", "b"]) }
        _ = try await eventsB.next("b sees a and b", within: 10) { $0 == .members(["a", "b"]) }
        #expect(a.health == .healthy && b.health == .healthy)
        #expect(a.members.members.map(\.url) == ["ws://a/gateway", "ws://b/gateway"])

        a.send(Array("to b".utf8), to: "b")
        a.broadcast(Array("to all".utf8))
        _ = try await eventsB.next("b gets a's message", within: 10) { $0 == .message(from: "a", "to b") }
        _ = try await eventsB.next("b gets a's broadcast", within: 10) { $0 == .message(from: "a", "to all") }
        // A node does not hear its own broadcast.
        #expect(!eventsA.pending.contains { if case .message = $0 { true } else { false } })

        #expect(try await a.request(Array("hello".utf8), to: "b") == Array("re: hello".utf8))
        await #expect(throws: ClusterError.nodeUnreachable("nobody")) { try await a.request([1], to: "nobody") }
        await #expect(throws: ClusterError.requestTimedOut(node: "b")) { try await a.request(Array("silent".utf8), to: "b") }
        #expect(a.statistics.requestsOut == 3 && a.statistics.requestsFailed == 2)

        await b.leave()
        _ = try await eventsA.next("a sees b leave (without waiting for the TTL)", within: 5) { $0 == .members(["a"]) }
        await a.leave()
        #expect(try await redis.cli("ZCARD", "readstates:nodes").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func aNodeThatStopsHeartbeatingIsDroppedAfterItsTTL() async throws {
        let redis = try await RedisTestServer()
        let events = Events<Event>()
        let a = try Self.node("a", redis: redis, events: events, ttl: 1_500)
        _ = try await a.start()
        // A member that registered and then went silent (as a node killed with -9 does).
        _ = try await redis.cli("EVAL", "redis.call('ZADD', KEYS[1], redis.call('TIME')[1] * 1000 + 1500, 'ghost') return 1", "1", "readstates:nodes")
        _ = try await redis.cli("PUBLISH", "readstates:membership", "join ghost")
        _ = try await events.next("a sees the ghost", within: 10) { $0 == .members(["a", "ghost"]) }
        _ = try await events.next("the ghost's TTL runs out", within: 10) { $0 == .members(["a"]) }
        await a.leave()
    }

    @Test func redisRestartedDegradesTheNodeWhichThenRecoversAndTalksAgain() async throws {
        let redis = try await RedisTestServer()
        let eventsA = Events<Event>(), eventsB = Events<Event>()
        let a = try Self.node("a", redis: redis, events: eventsA)
        let b = try Self.node("b", redis: redis, events: eventsB)
        _ = try await a.start()
        _ = try await b.start()
        _ = try await eventsA.next("a sees b", within: 10) { $0 == .members(["a", "b"]) }
        let before = eventsA.history.count
        try await redis.stop()
        _ = try await eventsA.next("a degraded", within: 10) { $0 == .health(.degraded) }
        // While Redis is down, a request fails at once rather than hanging.
        await #expect(throws: ClusterError.disconnected) { try await a.request([1], to: "b") }
        #expect(a.members.ids == ["a", "b"])  // the last set is kept
        try await redis.start()
        _ = try await eventsA.next("a healthy again", within: 15) { $0 == .health(.healthy) }
        _ = try await eventsB.next("b healthy again", within: 15) { $0 == .health(.healthy) }
        // Both re-registered and resubscribed: messages and requests flow again.
        try await eventually("b's subscription is back", within: 10) {
            (try? await a.request(Array("again".utf8), to: "b")) == Array("re: again".utf8)
        }
        a.send(Array("after".utf8), to: "b")
        _ = try await eventsB.next("b gets a message after the restart", within: 10) { $0 == .message(from: "a", "after") }
        #expect(a.statistics.reconnects >= 1)
        // Redis came back empty; a kept b in its set while b re-registered (no churn of
        // ownership, which would move users back and forth).
        #expect(!eventsA.history[before...].contains(.members(["a"])))
        await a.leave()
        await b.leave()
    }

    @Test func startingWithoutRedisFailsWithAClearErrorInsteadOfHanging() async throws {
        guard let port = LoopbackPort.free() else { Issue.record("no free port"); return }
        var configuration = ClusterNode.Configuration(
            redis: RedisURL(host: "127.0.0.1", port: port), nodeID: "lonely", advertiseURL: "ws://x/gateway"
        )
        configuration.ttlMilliseconds = 1_000
        let node = try ClusterNode(configuration: configuration, handlers: .init(), logger: Logger(label: "test"))
        await #expect {
            try await node.start(timeoutMilliseconds: 1_000)
        } throws: { error in
            guard case ClusterError.redisUnreachable = error else { return false }
            return true
        }
        #expect(throws: ClusterError.badNodeID("a b")) {
            try ClusterNode(
                configuration: .init(redis: RedisURL(host: "h"), nodeID: "a b", advertiseURL: ""), handlers: .init(), logger: Logger(label: "t")
            )
        }
    }
}
