public import Snowflake

/// A chat channel: who is in it and its newest message (clients compare that with
/// their read state to show "unread").
public struct ChatChannel: Sendable, Hashable, Codable {
    public var id: Snowflake
    public var name: String
    public var members: [Snowflake]
    public var lastMessageID: Snowflake?

    public init(id: Snowflake, name: String, members: [Snowflake], lastMessageID: Snowflake? = nil) {
        self.id = id
        self.name = name
        self.members = members
        self.lastMessageID = lastMessageID
    }
}

/// Where channels and memberships persist: the same database as the read states.
///
/// Channels are few next to read states (thousands, not millions, per node), so the
/// gateway loads them all at start and keeps them in memory.
public protocol ChannelStore: Sendable {
    func loadChannels() async throws -> [ChatChannel]
    /// Creates the channel, or replaces its name and members.
    func saveChannel(_ channel: ChatChannel) async throws
    /// Sets a channel's newest message unless the stored one is newer.
    func recordLastMessages(_ lastMessages: [Snowflake: Snowflake]) async throws
}
