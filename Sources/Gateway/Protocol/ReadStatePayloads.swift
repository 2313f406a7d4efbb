public import ReadStatesModule
public import Snowflake

/// `read_state` as READY and the HTTP API send it: Discord's shape.
public struct ReadStateList: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: Snowflake
        public var lastMessageId: Snowflake
        public var mentionCount: Int
    }

    /// The user's highest version (as clients see it, ``ReadStateVersions``), also
    /// when only some entries are sent: what the client sends back next time.
    public var version: UInt64
    /// Only the entries changed after the client's version (the client keeps the rest).
    public var partial: Bool
    public var entries: [Entry]

    /// Every state, or (`since` a version the client has seen) the changed ones when
    /// that version allows it (``ReadStateVersions/changes(since:current:)``).
    public init(_ states: [ReadState], versions: ReadStateVersions, since clientVersion: UInt64? = nil) {
        var current: UInt32 = 0
        for state in states where state.version > current { current = state.version }
        version = versions.client(current)
        var sent = states
        if let clientVersion, let seen = versions.changes(since: clientVersion, current: current) {
            partial = true
            sent = states.filter { $0.version > seen }
        } else {
            partial = false
        }
        entries = sent.sorted { $0.channelID < $1.channelID }.map {
            Entry(id: $0.channelID, lastMessageId: $0.lastMessageID, mentionCount: $0.mentionCount)
        }
    }
}

/// MESSAGE_ACK's payload (and the HTTP ack's answer).
public struct MessageAck: Codable, Sendable, Equatable {
    public var channelId: Snowflake
    public var messageId: Snowflake
    public var mentionCount: Int
    /// The state's version as clients see it (``ReadStateVersions``).
    public var version: UInt64
    public var manual: Bool
    /// False when the ack was older than the stored one and changed nothing.
    public var changed: Bool

    public init(_ change: ReadStateChange, manual: Bool, versions: ReadStateVersions) {
        channelId = change.state.channelID
        messageId = change.state.lastMessageID
        mentionCount = change.state.mentionCount
        version = versions.client(change.state.version)
        self.manual = manual
        changed = change.isUpdated
    }
}

/// READY's payload.
public struct ReadyPayload: Codable, Sendable {
    public struct User: Codable, Sendable {
        public var id: Snowflake
    }

    public struct Channel: Codable, Sendable {
        public var id: Snowflake
        public var name: String
        public var lastMessageId: Snowflake?
    }

    /// Gateway version, as Discord's `v`.
    public var v: Int
    public var sessionId: String
    public var resumeGatewayUrl: String
    public var user: User
    public var channels: [Channel]
    public var readState: ReadStateList
}

/// REQUEST_ERROR's codes, in one place: Discord's JSON error codes where one fits, and
/// the HTTP status the same refusal gets from the REST routes.
public enum RequestErrorCode: Int, Sendable, CaseIterable {
    /// The store failed, or the gateway is stopping: the request may be tried again.
    case unavailable = 0
    /// Discord's 10003: no such channel.
    case unknownChannel = 10003
    /// Discord's 50001: the user is not a member of the channel.
    case missingAccess = 50001

    public var httpStatus: Int {
        switch self {
        case .unavailable: 503
        case .unknownChannel: 404
        case .missingAccess: 403
        }
    }
}

/// REQUEST_ERROR's payload: a request that was refused, and why (`code`: a
/// ``RequestErrorCode``).
public struct RequestError: Error, Codable, Sendable, Equatable {
    public var op: Int
    public var code: Int
    public var message: String
    public var nonce: String?

    public init(op: Int, code: Int, message: String, nonce: String?) {
        self.op = op
        self.code = code
        self.message = message
        self.nonce = nonce
    }

    init(_ op: GatewayOpcode, _ code: RequestErrorCode, _ message: String, nonce: String? = nil) {
        self.init(op: op.rawValue, code: code.rawValue, message: message, nonce: nonce)
    }

    static func unknownChannel(_ channel: Snowflake, op: GatewayOpcode, nonce: String? = nil) -> RequestError {
        RequestError(op, .unknownChannel, "unknown channel \(channel)", nonce: nonce)
    }

    static func missingAccess(_ channel: Snowflake, op: GatewayOpcode, nonce: String? = nil) -> RequestError {
        RequestError(op, .missingAccess, "not a member of channel \(channel)", nonce: nonce)
    }

    static func unavailable(_ reason: String, op: GatewayOpcode, nonce: String? = nil) -> RequestError {
        RequestError(op, .unavailable, reason, nonce: nonce)
    }

    /// The status the REST twin of the refused request answers with.
    public var httpStatus: Int { (RequestErrorCode(rawValue: code) ?? .unavailable).httpStatus }
}

/// MESSAGE_CREATE's payload.
public struct MessageCreate: Codable, Sendable {
    public struct UserRef: Codable, Sendable {
        public var id: Snowflake
    }

    public var id: Snowflake
    public var channelId: Snowflake
    public var author: UserRef
    public var content: String
    public var mentions: [UserRef]
    public var mentionEveryone: Bool
    public var nonce: String?
}
