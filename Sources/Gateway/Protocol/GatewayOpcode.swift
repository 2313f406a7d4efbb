/// Gateway opcodes: Discord's numbers where Discord has the operation, 100 and up for
/// the chat and read-state operations clients send inline (Discord's clients use HTTP
/// for those).
public enum GatewayOpcode: Int, Sendable, Codable {
    case dispatch = 0
    case heartbeat = 1
    case identify = 2
    case resume = 6
    case reconnect = 7
    case invalidSession = 9
    case hello = 10
    case heartbeatAck = 11
    case sendMessage = 100
    case ack = 101
    case bulkAck = 102
}

/// WebSocket close codes, as Discord's gateway sends them.
public enum GatewayCloseCode: UInt16, Sendable, Equatable {
    case goingAway = 1001
    case unknownError = 4000
    case unknownOpcode = 4001
    case decodeError = 4002
    case notAuthenticated = 4003
    case authenticationFailed = 4004
    case alreadyAuthenticated = 4005
    case invalidSequence = 4007
    case rateLimited = 4008
    case sessionTimedOut = 4009

    /// The reason text sent with the close frame.
    public var reason: String {
        switch self {
        case .goingAway: "server going away, reconnect"
        case .unknownError: "unknown error"
        case .unknownOpcode: "unknown opcode"
        case .decodeError: "decode error"
        case .notAuthenticated: "not authenticated"
        case .authenticationFailed: "authentication failed"
        case .alreadyAuthenticated: "already authenticated"
        case .invalidSequence: "invalid seq"
        case .rateLimited: "rate limited"
        case .sessionTimedOut: "session timed out"
        }
    }
}
