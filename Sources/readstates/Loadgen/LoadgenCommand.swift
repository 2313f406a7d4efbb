import LWSTransport
import ArgumentParser
import Foundation
import Gateway
import Snowflake

/// `readstates loadgen`: many gateway sessions from one process, a paced mix of
/// messages with mentions and acks, end-to-end latency per second.
struct LoadgenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Load the gateway with many sessions and measure end-to-end latency.",
        discussion: """
            Creates its users' channels over HTTP with the admin token (from the server's \
            secret), connects and identifies every session, then sends SEND_MESSAGE (with a \
            mention) and ACK at --rate events per second in all, paced open loop. An event's \
            latency runs from its due time to the dispatch that completes it: MESSAGE_CREATE at \
            the mentioned user's session, MESSAGE_ACK at the acking session. Start the server \
            with --rate-limit 0 (its default allows 2 payloads per second per session). \
            With --echo it drives `readstates echo` instead: the transport's ceiling.
            Exit status: 0 when the run completed, 1 when it could not start, 64 for bad options.
            """
    )

    @Option(help: "The gateway's WebSocket URL.")
    var url = "ws://127.0.0.1:8080/gateway"

    @Option(help: "Concurrent sessions (one user each).")
    var sessions = 1000

    @Option(help: "Events per second, all sessions together.")
    var rate = 50_000.0

    @Option(help: "Length of the measured run.")
    var seconds = 60

    @Option(help: "Seconds at the full rate before the measured ones (printed, not counted).")
    var warmup = 0

    @Option(help: "Users per channel (every member gets each MESSAGE_CREATE).")
    var channelMembers = 5

    @Option(help: "Share of events that are ACKs (the rest are messages).")
    var ackShare = 0.5

    @Option(help: "Sessions connecting or identifying at once during setup.")
    var connectConcurrency = 256

    @OptionGroup var secret: SecretOptions

    @Flag(help: "Drive `readstates echo` (frames come back as sent) instead of the gateway.")
    var echo = false

    @Option(help: "Write a latency-over-time chart (SVG) to this file.")
    var plot: String?

    @Option(help: "The server's process ID, to report its RSS at the end.")
    var serverPid: Int32?

    @Flag(help: "Ask the gateway to compress what it sends (zlib-stream); bytes on the wire are reported.")
    var compress = false

    @Flag(help: "After the run, every session connects again and identifies with the read-state version it has seen: READY is partial (its size is reported).")
    var reidentify = false

    @Flag(help: "One JSON object per line instead of text.")
    var json = false

    @Option(help: "In a cluster: connect each session to its user's owner (owner, from GET /api/gateway), round-robin over the nodes whoever owns them (spread: with --channel-members 2 every message crosses nodes), or all to --url (seed).")
    var placement: Placement = .owner

    enum Placement: String, ExpressibleByArgument, CaseIterable {
        case owner, spread, seed
    }

    func validate() throws {
        guard sessions > 0 else { throw ValidationError("--sessions must be at least 1") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard seconds > 0 else { throw ValidationError("--seconds must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        guard channelMembers >= 2 else { throw ValidationError("--channel-members must be at least 2 (a mention needs someone else)") }
        guard (0...1).contains(ackShare) else { throw ValidationError("--ack-share must be 0 to 1") }
        guard connectConcurrency > 0 else { throw ValidationError("--connect-concurrency must be at least 1") }
        guard !(echo && (compress || reidentify)) else { throw ValidationError("--compress and --reidentify drive the gateway, not --echo") }
    }

    func run() throws {
        var endpoint: WebSocketEndpoint
        do {
            endpoint = try WebSocketEndpoint(url: url)
        } catch {
            throw ValidationError("--url: \(error)")
        }
        if compress { endpoint = endpoint.addingQueryArgument("compress=zlib-stream") }
        try raiseOpenFileLimit(needed: sessions + 64)
        let plan = try makePlan(endpoint)
        let report = LoadReport(json: json, echo: echo)
        let driver = LoadDriver(plan: plan, report: report)
        let client: WebSocketClient
        do {
            client = try WebSocketClient(tickInterval: .nanoseconds(Int64(LoadDriver.tickNanoseconds)), delegate: driver)
        } catch {
            fail("\(error)")
        }
        client.wait()
        var note: String?
        if let serverPid, case let rss = BenchClock.residentBytes(of: serverPid), rss > 0 {
            note = String(format: "server RSS at the end: %.1f MiB", Double(rss) / 1_048_576)
        }
        report.summary(rate: rate, sessions: sessions, residentBytesNote: note)
        if let plot {
            let title = "\(echo ? "echo" : "gateway"): \(sessions) sessions, \(Int(rate)) events/s planned, latency per second"
            do {
                try LatencyChart(title: title, lines: report.lines).svg().write(toFile: plot, atomically: true, encoding: .utf8)
            } catch {
                fail("cannot write \(plot): \(error)")
            }
        }
        if report.lines.isEmpty { throw ExitCode(1) }
    }

    /// Users, tokens and channels; the channels are created on the server.
    private func makePlan(_ endpoint: WebSocketEndpoint) throws -> LoadPlan {
        // Fresh IDs every run (worker 31, process 31), so runs do not share users.
        let ids = SnowflakeGenerator(worker: 31, process: 31)
        let users = (0..<sessions).map { _ in ids.next() }
        let layout = LoadPlan.channels(sessions: sessions, channelMembers: channelMembers, firstChannel: ids.next())
        var tokens: [String] = []
        if !echo {
            let authority: TokenAuthority
            do {
                authority = try secret.authority(createIfMissing: false)
            } catch {
                fail("\(error) (loadgen signs its users' tokens with the server's secret: --data-dir or --secret-file)")
            }
            tokens = users.map { authority.mint(user: $0) }
            try createChannels(layout.channels, layout.members, users: users, endpoint: endpoint, admin: authority.adminToken)
        }
        var plan = LoadPlan(
            endpoint: endpoint, tokens: tokens, users: users, channelOf: layout.channelOf, channels: layout.channels,
            members: layout.members, rate: rate, warmupSeconds: warmup, seconds: seconds, ackShare: ackShare,
            connectConcurrency: connectConcurrency, echo: echo, serverPid: serverPid, reidentify: reidentify
        )
        if !echo { plan.endpoints = placeSessions(tokens, seed: endpoint) }
        return plan
    }

    /// In a cluster (its `/health` lists members), each session's node: its user's owner
    /// (`GET /api/gateway`), or round-robin over the nodes seen (`--placement spread`).
    /// nil on one node: every session uses `--url`.
    private func placeSessions(_ tokens: [String], seed: WebSocketEndpoint) -> [WebSocketEndpoint]? {
        guard !seed.tls, let health = try? BlockingHTTP.request(host: seed.host, port: Int32(seed.port), "GET", "/health"),
            health.status == 200, health.body.contains("\"members\"")
        else { return nil }
        let start = BenchClock.nanoseconds()
        var owners: [WebSocketEndpoint] = []
        for token in tokens {
            guard let owner = GatewayLookup.gateway(for: token, asking: seed) else { fail("GET /api/gateway on \(seed) did not answer") }
            owners.append(owner)
        }
        var nodes: [WebSocketEndpoint] = []
        for owner in owners where !nodes.contains(owner) { nodes.append(owner) }
        nodes.sort { $0.description < $1.description }
        let placed: [WebSocketEndpoint]
        switch placement {
        case .owner: placed = owners
        case .spread: placed = owners.indices.map { nodes[$0 % nodes.count] }
        case .seed: placed = owners.map { _ in seed }
        }
        let perNode = nodes.map { node in "\(node.host):\(node.port) \(placed.filter { $0 == node }.count)" }.joined(separator: ", ")
        let seconds = Double(BenchClock.nanoseconds() - start) / 1e9
        BenchOutput(json: json).emit(
            ["event": "placement", "placement": placement.rawValue, "nodes": nodes.count, "seconds": seconds],
            "placement (\(placement.rawValue)): \(nodes.count) nodes, sessions \(perNode); \(String(format: "%.2f", seconds)) s of lookups"
        )
        return placed
    }

    private func createChannels(_ channels: [Snowflake], _ members: [[Int]], users: [Snowflake], endpoint: WebSocketEndpoint, admin: String) throws {
        guard !endpoint.tls else { fail("loadgen creates its channels over plain HTTP: use a ws:// URL") }
        let start = BenchClock.nanoseconds()
        for (index, channel) in channels.enumerated() {
            let memberList = members[index].map { "\"\(users[$0])\"" }.joined(separator: ",")
            let body = #"{"id":"\#(channel)","name":"load-\#(index)","members":[\#(memberList)]}"#
            do {
                let response = try BlockingHTTP.request(
                    host: endpoint.host, port: Int32(endpoint.port), "POST", "/api/channels",
                    headers: ["Authorization": admin, "Content-Type": "application/json"], body: body
                )
                guard response.status == 201 else {
                    fail("creating channel \(index) answered \(response.status): \(response.body)")
                }
            } catch {
                fail("creating channels: \(error)")
            }
        }
        let seconds = Double(BenchClock.nanoseconds() - start) / 1e9
        BenchOutput(json: json).emit(
            ["event": "channels", "channels": channels.count, "seconds": seconds],
            "channels: \(channels.count) created over HTTP in \(String(format: "%.2f", seconds)) s"
        )
    }

    /// Each session is a socket: the soft limit goes up to the hard one when needed.
    private func raiseOpenFileLimit(needed: Int) throws {
        let limit = OpenFileLimit.raise(toAtLeast: needed)
        guard limit >= needed else {
            throw ValidationError(
                "\(sessions) sessions need about \(needed) open files; this process may have \(limit) (hard limit \(OpenFileLimit.hard)): raise it with `ulimit -n`"
            )
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("readstates loadgen: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
