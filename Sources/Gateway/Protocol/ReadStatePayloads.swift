public import ReadStatesModule
public import Snowflake

/// `read_state` as READY and the HTTP API send it: Discord's shape.
public struct ReadStateList: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: Snowflake
        public var lastMessageId: Snowflake
        public var mentionCount: Int
    }

    /// The highest version among the entries: a client that saw a higher one already
    /// has newer data.
    public var version: UInt32
    public var partial: Bool
    public var entries: [Entry]

    public init(_ states: [ReadState]) {
        version = states.map(\.version).max() ?? 0
        partial = false
        entries = states.sorted { $0.channelID < $1.channelID }.map {
            Entry(id: $0.channelID, lastMessageId: $0.lastMessageID, mentionCount: $0.mentionCount)
        }
    }
}

/// MESSAGE_ACK's payload (and the HTTP ack's answer).
public struct MessageAck: Codable, Sendable, Equatable {
    public var channelId: Snowflake
    public var messageId: Snowflake
    public var mentionCount: Int
    public var version: UInt32
    public var manual: Bool
    /// False when the ack was older than the stored one and changed nothing.
    public var changed: Bool

    public init(_ change: ReadStateChange, manual: Bool) {
        channelId = change.state.channelID
        messageId = change.state.lastMessageID
        mentionCount = change.state.mentionCount
        version = change.state.version
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

/// REQUEST_ERROR's payload: a request that was refused, and why. `code` follows
/// Discord's JSON error codes where one fits (10003 unknown channel, 50001 missing
/// access); 0 for a store failure.
public struct RequestError: Error, Codable, Sendable, Equatable {
    public var op: Int
    public var code: Int
    public var message: String
    public var nonce: String?
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
