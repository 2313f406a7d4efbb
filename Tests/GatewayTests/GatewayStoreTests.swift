import Foundation
import Gateway
import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

/// A persistence over an in-memory store whose next loads of chosen users fail.
final class FailingLoadsPersistence: ReadStatesPersistence {
    struct Down: Error {}
    let store = InMemoryReadStatesPersistence()
    private let failures = Mutex<[Snowflake: Int]>([:])
    let loads = Atomic<Int>(0)

    func failNextLoads(of user: Snowflake, _ count: Int) {
        failures.withLock { $0[user] = count }
    }

    func load(user: Snowflake) async throws -> [ReadState] {
        loads.add(1, ordering: .relaxed)
        let fail = failures.withLock { failures -> Bool in
            guard let left = failures[user], left > 0 else { return false }
            failures[user] = left - 1
            return true
        }
        if fail { throw Down() }
        return try await store.load(user: user)
    }

    func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        store.evicted(user: user, dirtyStates: dirtyStates)
    }
}

/// The gateway when the cache and the store are in the way: users evicted between
/// their changes, loads that fail, and a server that is stopping. Through the real
/// port, as clients meet it.
@Suite(.timeLimit(.minutes(3))) struct GatewayStoreTests {
    let tokens = TokenAuthority(secret: Data(repeating: 11, count: 32))
    let general = id(10)
    let pair = id(11)

    func directory() -> ChannelDirectory {
        ChannelDirectory([
            ChatChannel(id: general, name: "general", members: [id(1), id(2), id(3), id(4)]),
            ChatChannel(id: pair, name: "pair", members: [id(1), id(2)]),
        ])
    }

    func auth(_ user: UInt64) -> [String: String] { ["Authorization": tokens.mint(user: id(user))] }

    /// An ack and a mention for a user no longer in the cache: the user's states are
    /// loaded (the write-behind's pending ones included), then changed; nothing is lost.
    @Test func changesForAnEvictedUserReloadItFirstAndLoseNothing() async throws {
        let store = InMemoryReadStatesPersistence()
        let writeBehind = WriteBehind(store: store, delay: 30)
        // Two users at most: a third evicts the least recently used.
        let engine = ReadStates(configuration: .init(capacity: 64, maximumUsers: 2, shards: 1), persistence: writeBehind)
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: directory(), serving: { true })
        )
        defer { server.stop() }
        let port = server.port
        func ack(_ user: UInt64, _ channel: Snowflake, _ message: UInt64) async throws {
            let response = try await RawHTTP.request(
                port: port, "POST", "/api/channels/\(channel.rawValue)/messages/\(id(message).rawValue)/ack", headers: auth(user)
            )
            #expect(response.status == 200, "\(response.body)")
        }
        func evictUser1() async throws {
            try await ack(3, general, 1)
            try await ack(4, general, 1)
            #expect(engine.readStatesIfCached(of: id(1)) == nil)
        }

        try await ack(1, general, 50)
        try await evictUser1()
        // Evicted dirty: held by the write-behind, not yet in the store.
        #expect(writeBehind.pendingCount >= 1)
        // Mentioned while evicted (a message over HTTP, as SEND_MESSAGE).
        let sent = try await RawHTTP.request(
            port: port, "POST", "/api/channels/\(pair.rawValue)/messages", headers: auth(2), body: #"{"content":"ping <@\#(id(1).rawValue)>"}"#
        )
        #expect(sent.status == 200, "\(sent.body)")
        try await evictUser1()
        // Acked while evicted, in the channel that was not mentioned.
        try await ack(1, general, 60)
        let listed = try await RawHTTP.request(port: port, "GET", "/api/users/@me/read-states", headers: auth(1))
        let entries = (listed.json?["entries"] as? [[String: Any]] ?? []).sorted { ($0["id"] as? String ?? "") < ($1["id"] as? String ?? "") }
        #expect(entries.count == 2, "\(listed.body)")
        #expect(entries.first?["id"] as? String == "\(general.rawValue)")
        #expect(entries.first?["last_message_id"] as? String == "\(id(60).rawValue)")
        #expect(entries.last?["id"] as? String == "\(pair.rawValue)")
        #expect(entries.last?["mention_count"] as? Int == 1)
        #expect(engine.statistics.evictedUsers >= 4)

        // Everything reaches the store in the end.
        try await writeBehind.flush(from: engine, everything: true)
        let stored = store.stored(user: id(1)).sorted { $0.channelID < $1.channelID }
        #expect(stored.map(\.lastMessageID) == [id(60), .zero])
        #expect(stored.map(\.mentionCount) == [0, 1])
    }

    /// READY for a user whose load fails: close 4000, no session is left behind, and the
    /// client's retry gets READY; the user's sessions then get every MESSAGE_ACK once.
    @Test func aFailedLoadAtIdentifyClosesWith4000AndARetryWorks() async throws {
        let persistence = FailingLoadsPersistence()
        persistence.failNextLoads(of: id(2), 1)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: persistence)
        let metrics = GatewayMetrics()
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: directory(), metrics: metrics, serving: { true })
        )
        defer { server.stop() }
        let script = """
            import asyncio, json, sys, websockets
            sys.path.insert(0, sys.argv[4])
            from gateway_checks import check, closed_with, expect_silence, receive, run
            async def identify(url, token):
                ws = await websockets.connect(url)
                await receive(ws)
                await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
                return ws
            async def main(url, token, channel, _path):
                failed = await identify(url, token)
                await closed_with(failed, 4000)
                first = await identify(url, token)
                check((await receive(first))["t"] == "READY", "READY on the retry")
                second = await identify(url, token)
                check((await receive(second))["t"] == "READY", "READY of a second session")
                await first.send(json.dumps({"op": 101, "d": {"channel_id": channel, "message_id": "%d" % (5 << 22)}}))
                for ws in (first, second):
                    ack = await receive(ws)
                    check(ack["t"] == "MESSAGE_ACK", f"MESSAGE_ACK: {ack}")
                    await expect_silence(ws, "a second dispatch")
                print("all checks passed")
            run(main, 4)
            """
        let arguments = [
            "python3", "-c", script, "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(2)), "\(general.rawValue)",
            clientScript("gateway_checks.py").deletingLastPathComponent().path,
        ]
        let run = try await Subprocess.run("/usr/bin/env", arguments)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("all checks passed"))
        let scraped = String(decoding: metrics.scrape(), as: UTF8.self)
        #expect(scraped.contains(#"gateway_closes_total{code="4000"} 1"#), "\(scraped)")
        #expect(scraped.contains(#"gateway_dispatches_total{type="READY"} 2"#), "\(scraped)")
        #expect(persistence.loads.load(ordering: .relaxed) == 2)
    }

    /// A bulk ack over HTTP reaches the user's sessions as one MESSAGE_ACK per changed
    /// state (none for the unchanged one).
    @Test func aBulkAckOverHTTPReachesTheSessions() async throws {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: directory(), serving: { true })
        )
        defer { server.stop() }
        let script = """
            import asyncio, json, sys, urllib.request, websockets
            sys.path.insert(0, sys.argv[5])
            from gateway_checks import check, expect_silence, receive, run
            async def main(url, token, general, pair, _path):
                ws = await websockets.connect(url)
                await receive(ws)
                await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
                check((await receive(ws))["t"] == "READY", "READY")
                body = {"read_states": [{"channel_id": general, "message_id": str(5 << 22)},
                                        {"channel_id": pair, "message_id": str(6 << 22)},
                                        {"channel_id": general, "message_id": str(4 << 22)}]}
                request = urllib.request.Request(url.replace("ws://", "http://").replace("/gateway", "/api/read-states/ack-bulk"),
                    data=json.dumps(body).encode(), method="POST", headers={"Authorization": token})
                answer = await asyncio.to_thread(lambda: json.loads(urllib.request.urlopen(request, timeout=10).read()))
                check([e["changed"] for e in answer["read_states"]] == [True, True, False], f"answer: {answer}")
                acks = [await receive(ws), await receive(ws)]
                check(sorted((a["t"], a["d"]["channel_id"]) for a in acks) == sorted([("MESSAGE_ACK", general), ("MESSAGE_ACK", pair)]), f"{acks}")
                await expect_silence(ws, "a MESSAGE_ACK for the unchanged entry")
                print("all checks passed")
            run(main, 5)
            """
        let arguments = [
            "python3", "-c", script, "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1)),
            "\(general.rawValue)", "\(pair.rawValue)", clientScript("gateway_checks.py").deletingLastPathComponent().path,
        ]
        let run = try await Subprocess.run("/usr/bin/env", arguments)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("all checks passed"))
    }

    /// Once the server stops serving (what `serve` does on SIGTERM), every API route
    /// answers 503 and changes nothing; health says so too.
    @Test func theAPIAnswers503WhileStopping() async throws {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let serving = SharedFlag(true)
        let channels = directory()
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: channels, serving: { serving.value })
        )
        defer { server.stop() }
        let port = server.port
        let ack = "/api/channels/\(general.rawValue)/messages/\(id(5).rawValue)/ack"
        #expect(try await RawHTTP.request(port: port, "POST", ack, headers: auth(1)).status == 200)
        serving.set(false)
        #expect(try await RawHTTP.request(port: port, "GET", "/health").status == 503)
        let later = "/api/channels/\(general.rawValue)/messages/\(id(9).rawValue)/ack"
        #expect(try await RawHTTP.request(port: port, "POST", later, headers: auth(1)).status == 503)
        #expect(try await RawHTTP.request(port: port, "GET", "/api/users/@me/read-states", headers: auth(1)).status == 503)
        let message = try await RawHTTP.request(
            port: port, "POST", "/api/channels/\(general.rawValue)/messages", headers: auth(1), body: #"{"content":"late"}"#
        )
        #expect(message.status == 503)
        #expect(engine.readStatesIfCached(of: id(1))?.map(\.lastMessageID) == [id(5)])
        #expect(channels.channel(general)?.lastMessageID == nil)
    }
}
