import Foundation
import Gateway
import Histogram
import ReadStatesModule
import Snowflake

/// `readstates bench ready`: READY built by the real ``GatewayCore`` for a cached user
/// with N read states in N channels, without sockets: from the IDENTIFY frame in to the
/// READY bytes out, what `gateway_ready_build_seconds` measures on the service thread
/// minus the socket. Three forms per size: full; partial (the client's version is from
/// before 5 changes, so READY holds 5 entries); and full compressed with zlib-stream
/// (build, then deflate on a connection's stream that has carried HELLO).
struct ReadyBenchmark {
    var readStates: [Int]
    var runs: Int
    var forms: [Form] = Form.allCases
    /// Changes between the client's version and the partial READY.
    static let changes = 5

    enum Form: String, CaseIterable {
        case full, partial, compressed
    }

    func run() throws {
        for count in readStates {
            for form in forms {
                try measure(count: count, form: form)
            }
        }
    }

    private func measure(count: Int, form: Form) throws {
        let tokens = TokenAuthority(secret: Data(repeating: 7, count: 32))
        let user = Snowflake(rawValue: 80_351_110_224_678_912)
        let channels = (0..<count).map { index in
            ChatChannel(
                id: Snowflake(rawValue: 175_928_847_299_117_063 + UInt64(index)),
                name: "channel-\(index)",
                members: [user],
                lastMessageID: Snowflake(rawValue: 175_928_847_299_200_000 + UInt64(index) * 7)
            )
        }
        let engine = ReadStates(configuration: .init(capacity: max(64, count * 2), shards: 1), persistence: InMemoryReadStatesPersistence())
        try engine.insertLoaded(
            user: user,
            states: channels.enumerated().map { index, channel in
                ReadState(channelID: channel.id, lastMessageID: channel.lastMessageID ?? .zero, mentionCount: index % 4, version: UInt32(index + 1))
            }
        )
        let versions = ReadStateVersions(generation: 1)
        // The client saw everything up to now; then 5 acks change 5 states.
        let seen = versions.client(UInt32(count))
        for index in stride(from: 0, to: count, by: max(1, count / Self.changes)).prefix(Self.changes) {
            _ = try engine.ackIfCached(user: user, channel: channels[index].id, messageID: Snowflake(rawValue: channels[index].lastMessageID!.rawValue + 1))
        }
        var configuration = SessionMachine.Configuration()
        configuration.rateLimit = 0
        var core = GatewayCore(
            engine: engine, directory: ChannelDirectory(channels), tokens: tokens,
            messageIDs: SnowflakeGenerator(worker: 0, process: 0), metrics: GatewayMetrics(), configuration: configuration,
            versions: versions
        )
        core.resumeURL = "ws://127.0.0.1:8080/gateway"
        let token = tokens.mint(user: user)
        let identify = Array(
            (form == .partial
                ? #"{"op":2,"d":{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":\#(seen)}}}"#
                : #"{"op":2,"d":{"token":"\#(token)"}}"#).utf8
        )
        let hello = ServerFrame.hello(heartbeatIntervalMilliseconds: 41_250)
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000)
        var bytes = 0
        for run in 0..<(runs + runs / 10) {
            let connection = run + 1
            _ = core.connected(connection, now: 0)
            // A new connection's stream, which has carried HELLO (not timed).
            let deflater = form == .compressed ? try ZlibStreamDeflater(ZlibStreamSettings()) : nil
            _ = deflater?.compress(hello)
            let start = BenchClock.nanoseconds()
            let actions = core.received(connection, frame: identify, now: 1)
            var ready: [UInt8] = []
            for case .send(_, let frame) in actions { ready = deflater?.compress(frame) ?? frame }
            let elapsed = BenchClock.nanoseconds() - start
            // The first tenth warms caches up and is not counted.
            if run >= runs / 10 { histogram.record(elapsed) }
            bytes = ready.count
            // Closed for cause, so the session ends rather than waiting for a RESUME
            // (thousands of kept sessions of one user would be another benchmark).
            _ = core.undecodable(connection)
            core.disconnected(connection, now: 2)
        }
        func micro(_ percentile: Double) -> String {
            String(format: "%.0f", Double(histogram.valueAtPercentile(percentile)) / 1000)
        }
        let label = switch form {
        case .full: "READY"
        case .partial: "READY partial (\(Self.changes) changed)"
        case .compressed: "READY zlib-stream"
        }
        print(
            "\(label), \(count) read states (\(bytes) bytes): p50 \(micro(50)) us, p99 \(micro(99)) us, max \(String(format: "%.0f", Double(histogram.max) / 1000)) us over \(runs) builds"
        )
    }
}
