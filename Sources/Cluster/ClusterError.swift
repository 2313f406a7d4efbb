/// What the cluster layer reports, one case per cause.
public enum ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--cluster` is not `redis://HOST[:PORT][/DB]`.
    case badRedisURL(String)
    /// A node ID must be 1-64 characters of letters, digits, `-`, `_` and `.`.
    case badNodeID(String)
    /// Redis did not answer in time at start-up.
    case redisUnreachable(String)
    /// Every one of the 1,024 Snowflake worker numbers is held by a live node.
    case noWorkerNumber
    /// Another live node already uses this node ID.
    case nodeIDTaken(String)
    /// The node a request went to did not answer in time, or is not subscribed.
    case requestTimedOut(node: String)
    case nodeUnreachable(String)
    /// The connection to Redis is down (the node serves alone meanwhile).
    case disconnected
    /// Redis answered with an error.
    case redis(String)
    /// The node is leaving or has left.
    case stopped

    public var description: String {
        switch self {
        case .badRedisURL(let text): "not a Redis URL (redis://HOST[:PORT][/DB]): \(text)"
        case .badNodeID(let id): "a node ID takes 1-64 letters, digits, '-', '_' or '.': \(id)"
        case .redisUnreachable(let detail): "Redis is unreachable: \(detail)"
        case .noWorkerNumber: "all 1,024 Snowflake worker numbers are held by live nodes"
        case .nodeIDTaken(let id): "node ID \(id) is already used by a live node"
        case .requestTimedOut(let node): "node \(node) did not answer in time"
        case .nodeUnreachable(let node): "node \(node) is not listening"
        case .disconnected: "the connection to Redis is down"
        case .redis(let message): "Redis: \(message)"
        case .stopped: "the node has left the cluster"
        }
    }
}
