import LWSTransport
import Gateway
import Snowflake

/// Who the load generator connects as and what it sends: one user per session, the
/// sessions in channels of `channelMembers` consecutive users, and the event mix.
struct LoadPlan: Sendable {
    var endpoint: WebSocketEndpoint
    /// In a cluster: each session's node (nil: every session uses `endpoint`).
    var endpoints: [WebSocketEndpoint]? = nil
    /// One token per session (empty in echo mode).
    var tokens: [String]
    var users: [Snowflake]
    /// The channel of each session (an index into `channels`).
    var channelOf: [Int]
    var channels: [Snowflake]
    /// The sessions in each channel.
    var members: [[Int]]
    /// Events per second, all sessions together.
    var rate: Double
    /// Seconds at the full rate before the measured ones (caches, page faults and code
    /// paths of a fresh server warm up; reported, not counted).
    var warmupSeconds: Int
    var seconds: Int
    /// The share of events that are ACKs (the rest are messages with a mention).
    var ackShare: Double
    /// Sessions connecting or identifying at once during setup.
    var connectConcurrency: Int
    /// Against `readstates echo`: no gateway protocol, every frame comes back.
    var echo: Bool
    /// The server's process (`--server-pid`): its CPU time per frame is measured.
    var serverPid: Int32? = nil
    /// After the run, every session identifies again with its read-state version.
    var reidentify = false

    var sessions: Int { users.count }

    /// `sessions` users in channels of `channelMembers`; the last channel takes the rest.
    static func channels(sessions: Int, channelMembers: Int, firstChannel: Snowflake) -> (channelOf: [Int], channels: [Snowflake], members: [[Int]]) {
        let size = max(1, channelMembers)
        let count = max(1, sessions / size)
        var channelOf = [Int](repeating: 0, count: sessions)
        var members = [[Int]](repeating: [], count: count)
        for session in 0..<sessions {
            let channel = min(session / size, count - 1)
            channelOf[session] = channel
            members[channel].append(session)
        }
        let channels = (0..<count).map { Snowflake(rawValue: firstChannel.rawValue + UInt64($0)) }
        return (channelOf, channels, members)
    }
}
