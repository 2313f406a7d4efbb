import Foundation
import Gateway
import Histogram
import ReadStatesModule
import Snowflake

/// `readstates bench ready`: READY built by the real ``GatewayCore`` for a cached user
/// with N read states in N channels, without sockets: from the IDENTIFY frame in to the
/// READY bytes out, what `gateway_ready_build_seconds` measures on the service thread
/// minus the socket.
struct ReadyBenchmark {
    var readStates: [Int]
    var runs: Int

    func run() throws {
        let tokens = TokenAuthority(secret: Data(repeating: 7, count: 32))
        for count in readStates {
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
            var configuration = SessionMachine.Configuration()
            configuration.rateLimit = 0
            var core = GatewayCore(
                engine: engine, directory: ChannelDirectory(channels), tokens: tokens,
                messageIDs: SnowflakeGenerator(worker: 0, process: 0), metrics: GatewayMetrics(), configuration: configuration
            )
            core.resumeURL = "ws://127.0.0.1:8080/gateway"
            let identify = Array(#"{"op":2,"d":{"token":"\#(tokens.mint(user: user))"}}"#.utf8)
            var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000)
            var bytes = 0
            for run in 0..<(runs + runs / 10) {
                let connection = run + 1
                _ = core.connected(connection, now: 0)
                let start = BenchClock.nanoseconds()
                let actions = core.received(connection, frame: identify, now: 1)
                let elapsed = BenchClock.nanoseconds() - start
                // The first tenth warms caches up and is not counted.
                if run >= runs / 10 { histogram.record(elapsed) }
                for case .send(_, let frame) in actions { bytes = frame.count }
                // Closed for cause, so the session ends rather than waiting for a RESUME
                // (thousands of kept sessions of one user would be another benchmark).
                _ = core.undecodable(connection)
                core.disconnected(connection, now: 2)
            }
            func micro(_ percentile: Double) -> String {
                String(format: "%.0f", Double(histogram.valueAtPercentile(percentile)) / 1000)
            }
            print(
                "READY, \(count) read states (\(bytes) bytes): p50 \(micro(50)) us, p99 \(micro(99)) us, max \(String(format: "%.0f", Double(histogram.max) / 1000)) us over \(runs) builds"
            )
        }
    }
}
