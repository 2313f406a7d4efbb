public import Snowflake

/// One user's read state in one channel: the newest message they have read and how
/// many @mentions arrived after it.
///
/// This is the value the engine hands out; inside the cache it is stored as
/// plain integers in flat buffers (see `ShardTable`), never as an object.
public struct ReadState: Sendable, Hashable, Codable {
    /// The channel this state belongs to (the `id` of a READY `read_state` entry).
    public var channelID: Snowflake
    /// The newest message the user has read; `Snowflake.zero` when they have read nothing.
    public var lastMessageID: Snowflake
    /// Unread @mentions after `lastMessageID`, saturating at ``ReadState/maximumMentionCount``.
    public var mentionCount: Int
    /// Grows with every change of this state, so clients and stores can order updates.
    public var version: UInt32

    /// Mention counts are stored in 16 bits (memory per read state is the product's
    /// budget); a badge shows "65535+" long before anyone reads that many.
    public static let maximumMentionCount = Int(UInt16.max)

    public init(channelID: Snowflake, lastMessageID: Snowflake, mentionCount: Int, version: UInt32) {
        self.channelID = channelID
        self.lastMessageID = lastMessageID
        self.mentionCount = mentionCount
        self.version = version
    }
}

/// A read state together with the user it belongs to: what persistence writes.
public struct UserReadState: Sendable, Hashable {
    public var userID: Snowflake
    public var state: ReadState

    public init(userID: Snowflake, state: ReadState) {
        self.userID = userID
        self.state = state
    }
}
