import Foundation
import Gateway
import ReadStatesModule
import Snowflake
import TestSupport
import Testing

/// The gateway driven by a third-party client: Python's `websockets` package
/// (installed by `scripts/install-deps.sh --test`), running Tests/Clients/gateway_scenario.py.
@Suite(.timeLimit(.minutes(5))) struct PythonClientTests {
    @Test func theWebsocketsPackageRunsTheSessionScenario() async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 4, count: 32))
        let userA = Snowflake(rawValue: 80_351_110_224_678_912)
        let userB = Snowflake(rawValue: 80_351_110_224_678_913)
        let channel = Snowflake(rawValue: 175_928_847_299_117_063)
        let older = Snowflake(rawValue: 175_928_847_299_117_070)
        let newer = Snowflake(rawValue: 175_928_847_299_117_099)
        let persistence = InMemoryReadStatesPersistence(
            [userA: [ReadState(channelID: channel, lastMessageID: older, mentionCount: 2, version: 3)]]
        )
        let engine = ReadStates(configuration: .init(capacity: 1000, shards: 2), persistence: persistence)
        let shared = Snowflake(rawValue: 175_928_847_299_117_000)
        let metrics = GatewayMetrics()
        let directory = ChannelDirectory([
            ChatChannel(id: channel, name: "a-only", members: [userA]),
            ChatChannel(id: shared, name: "a-and-b", members: [userA, userB]),
        ])
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: directory, metrics: metrics, serving: { true })
        )
        defer { server.stop() }
        let run = try await runClientScript(
            "gateway_scenario.py",
            [
                "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: userA), tokens.mint(user: userA), tokens.mint(user: userB),
                String(channel.rawValue), String(newer.rawValue), String(shared.rawValue), String(userB.rawValue),
            ]
        )
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("all checks passed"))
        // The scenario's last ack there (while one session was away) was newer + 1.
        #expect(engine.readStatesIfCached(of: userA)?.first { $0.channelID == channel }?.lastMessageID.rawValue == newer.rawValue + 1)
        // What the scenario did shows in /metrics.
        let scraped = String(decoding: metrics.scrape(), as: UTF8.self)
        for line in [
            #"gateway_dispatches_total{type="READY"}"#, #"gateway_dispatches_total{type="MESSAGE_ACK"}"#,
            #"gateway_dispatches_total{type="MESSAGE_CREATE"}"#, #"gateway_dispatches_total{type="RESUMED"}"#,
            #"gateway_closes_total{code="4003"} 1"#, #"gateway_closes_total{code="4004"} 1"#,
            "gateway_ready_build_seconds_count", #"readstates_cache_operation_seconds_count{operation="ack"}"#,
        ] {
            #expect(scraped.contains(line), "\(line)")
        }
        // B was mentioned once in the shared channel; A's own message is acked.
        let statesOfB = try #require(engine.readStatesIfCached(of: userB))
        #expect(statesOfB.map(\.channelID) == [shared])
        // Mentioned by name over the socket and by @everyone over HTTP, then acked over HTTP.
        #expect(statesOfB.first?.mentionCount == 0)
        #expect(statesOfB.first?.lastMessageID == directory.channel(shared)?.lastMessageID)
        #expect(engine.readStatesIfCached(of: userA)?.first { $0.channelID == shared }?.lastMessageID == directory.channel(shared)?.lastMessageID)
    }

    @Test func rateLimitHeartbeatTimeoutBadResumeAndAResumeGap() async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 5, count: 32))
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        var limited = GatewayServer.Configuration(port: 0)
        limited.session.rateLimit = 5
        let limitedServer = try GatewayServer(
            configuration: limited,
            rest: RESTAPI(engine: engine, tokens: tokens, directory: ChannelDirectory(), serving: { true })
        )
        defer { limitedServer.stop() }
        var fast = GatewayServer.Configuration(port: 0)
        fast.session.rateLimit = 0
        fast.session.heartbeatIntervalMilliseconds = 400
        fast.session.resumeHistory.bytesPerSession = 1
        let server = try GatewayServer(
            configuration: fast,
            rest: RESTAPI(engine: engine, tokens: tokens, directory: ChannelDirectory(), serving: { true })
        )
        defer { server.stop() }
        let run = try await runClientScript(
            "gateway_limits.py",
            ["ws://127.0.0.1:\(limitedServer.port)/gateway", "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1))]
        )
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("all checks passed"))
    }

    /// `neverReadsAgain`: the client never reads after the server closed it, so its
    /// close frame cannot go out; the connection is dropped at the close deadline
    /// (2 s here) instead of staying for good.
    @Test(arguments: [false, true])
    func aClientThatStopsReadingIsDisconnectedAndOthersAreServed(neverReadsAgain: Bool) async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 6, count: 32))
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let channel = Snowflake(rawValue: 175_928_847_299_117_063)
        let metrics = GatewayMetrics()
        var configuration = GatewayServer.Configuration(port: 0)
        configuration.session.rateLimit = 0
        configuration.session.sendBacklogLimitBytes = 64 * 1024
        if neverReadsAgain { configuration.closeDeadlineSeconds = 2 }
        let server = try GatewayServer(
            configuration: configuration,
            rest: RESTAPI(
                engine: engine,
                tokens: tokens,
                directory: ChannelDirectory([ChatChannel(id: channel, name: "flood", members: [id(1)])]),
                metrics: metrics,
                serving: { true }
            )
        )
        defer { server.stop() }
        let run = try await runClientScript(
            "gateway_slow_reader.py",
            ["ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1)), String(channel.rawValue)] + (neverReadsAgain ? ["never"] : [])
        )
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("all checks passed"))
        let scraped = String(decoding: metrics.scrape(), as: UTF8.self)
        #expect(scraped.contains(#"gateway_closes_total{code="4000"} 1"#), "\(scraped)")
    }

    @Test func zlibStreamPayloadsInflateInPythonToThePlainOnes() async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 10, count: 32))
        let engine = ReadStates(configuration: .init(capacity: 1000, shards: 1), persistence: InMemoryReadStatesPersistence())
        let channel = Snowflake(rawValue: 175_928_847_299_117_063)
        // A READY with a few hundred states, so that it spans deflate blocks.
        try engine.insertLoaded(user: id(1), states: (1...300).map {
            ReadState(channelID: Snowflake(rawValue: 175_928_847_299_000_000 + UInt64($0)), lastMessageID: id(UInt64($0)), mentionCount: $0 % 3, version: UInt32($0))
        })
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(
                engine: engine,
                tokens: tokens,
                directory: ChannelDirectory([ChatChannel(id: channel, name: "both", members: [id(1), id(2)])]),
                serving: { true }
            )
        )
        defer { server.stop() }
        let run = try await runClientScript(
            "zlib_stream_check.py",
            [
                "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1)), tokens.mint(user: id(2)), String(channel.rawValue),
                String(id(1).rawValue),
            ]
        )
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("zlib-stream: all checks passed"))
    }

    /// A close the server starts reaches a client that is still sending (RFC 6455 7.1.1):
    /// 20 tries each of a flood (4008), a huge frame (4002) and frames after a refused
    /// token (4004), with per-frame sends and no reads in between.
    @Test func closeCodesReachAClientThatIsStillSending() async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 9, count: 32))
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let metrics = GatewayMetrics()
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: ChannelDirectory(), metrics: metrics, serving: { true })
        )
        defer { server.stop() }
        let run = try await runClientScript(
            "gateway_close_while_sending.py", ["ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1)), "20"], within: 180
        )
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("all checks passed"))
        let scraped = String(decoding: metrics.scrape(), as: UTF8.self)
        for code in [4008, 4002, 4004] {
            #expect(scraped.contains(#"gateway_closes_total{code="\#(code)"} 20"#), "\(scraped)")
        }
    }

    @Test func shutdownSendsReconnectThenGoingAway() async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 7, count: 32))
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: ChannelDirectory(), serving: { true })
        )
        let script = clientScript("gateway_shutdown.py")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-shutdown-\(UUID()).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let client = try Subprocess.spawn(
            "/usr/bin/env",
            ["python3", script.path, "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1))],
            stdout: output
        )
        try await eventually("the client's \"identified\" line") {
            (try? String(contentsOf: output, encoding: .utf8))?.contains("identified") == true
        }
        try await blocking("server.stop()") { server.stop() }
        let status = try await client.exit(within: 30)
        #expect(status == 0)
        #expect((try? String(contentsOf: output, encoding: .utf8))?.contains("all checks passed") == true)
    }

    /// READY of a user whose load waits does not hold up another user's READY.
    @Test func aSessionWaitingForItsLoadDoesNotHoldUpOthers() async throws {
        let tokens = TokenAuthority(secret: Data(repeating: 8, count: 32))
        let persistence = SlowUserPersistence(slowUser: id(1))
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: persistence)
        let server = try GatewayServer(
            configuration: .init(port: 0),
            rest: RESTAPI(engine: engine, tokens: tokens, directory: ChannelDirectory(), serving: { true })
        )
        defer { server.stop() }
        let script = """
            import asyncio, json, sys, websockets
            async def identify(url, token):
                ws = await websockets.connect(url)
                await ws.recv()
                await ws.send(json.dumps({"op": 2, "d": {"token": token}}))
                return ws
            async def main(url, slow, fast):
                a = await identify(url, slow)
                b = await identify(url, fast)
                assert json.loads(await asyncio.wait_for(b.recv(), 5))["t"] == "READY"
                print("fast ready", flush=True)
                assert json.loads(await asyncio.wait_for(a.recv(), 20))["t"] == "READY"
                print("slow ready", flush=True)
            asyncio.run(main(*sys.argv[1:4]))
            """
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-slow-\(UUID()).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let client = try Subprocess.spawn(
            "/usr/bin/env",
            ["python3", "-c", script, "ws://127.0.0.1:\(server.port)/gateway", tokens.mint(user: id(1)), tokens.mint(user: id(2))],
            stdout: output
        )
        var fastFirst = false
        try await eventually("the fast user's READY") {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            fastFirst = !text.contains("slow ready")
            return text.contains("fast ready")
        }
        #expect(fastFirst)
        persistence.open()
        let status = try await client.exit(within: 30)
        #expect(status == 0)
        #expect((try? String(contentsOf: output, encoding: .utf8))?.contains("slow ready") == true)
    }
}
