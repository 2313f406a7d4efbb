public import Snowflake
import Synchronization

/// A ``ReadStatesPersistence`` over a dictionary: for tests, for benchmarks that
/// want no I/O, and as the reference behaviour of a store.
public final class InMemoryReadStatesPersistence: ReadStatesPersistence, ReadStatesStore, ChannelStore, ServingHistory {
    private let storage = Mutex<ReadStatesByUser>([:])
    /// (generation, serving): a new instance is a new history (nothing survives it).
    private let history = Mutex<(generation: UInt32?, serving: Bool)>((nil, false))
    private let channels = Mutex<[Snowflake: ChatChannel]>([:])
    private let loadsCount = Atomic<Int>(0)

    public init(_ initial: [Snowflake: [ReadState]] = [:]) {
        storage.withLock { storage in
            for (user, states) in initial {
                storage[user] = Dictionary(states.map { ($0.channelID, $0) }, uniquingKeysWith: { $1 })
            }
        }
    }

    public func load(user: Snowflake) async throws -> [ReadState] {
        loadsCount.add(1, ordering: .relaxed)
        return storage.withLock { storage in
            storage[user].map { Array($0.values) } ?? []
        }
    }

    public func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        write(user: user, states: dirtyStates)
    }

    /// Stores states, keeping the newer version of each (a late, older write never wins).
    public func write(user: Snowflake, states: [ReadState]) {
        storage.withLock { storage in
            for state in states { storage.keepNewer(state, of: user) }
        }
    }

    /// Stores a batch under one lock, with the same rule (the ``ReadStatesStore`` write).
    public func write(_ batch: [UserReadState]) async throws {
        storage.withLock { storage in
            for item in batch { storage.keepNewer(item.state, of: item.userID) }
        }
    }

    /// What is stored for a user, sorted by channel.
    public func stored(user: Snowflake) -> [ReadState] {
        storage.withLock { storage in
            (storage[user].map { Array($0.values) } ?? []).sorted { $0.channelID < $1.channelID }
        }
    }

    /// How many times `load` was called.
    public var loads: Int { loadsCount.load(ordering: .relaxed) }

    // MARK: ServingHistory

    public func beginServing() async throws -> UInt32 {
        history.withLock { history in
            let generation = ServingGeneration.begin(stored: history.generation, wasServing: history.serving)
            history = (generation, true)
            return generation
        }
    }

    public func endServing() async throws {
        history.withLock { $0.serving = false }
    }

    // MARK: ChannelStore

    public func loadChannels() async throws -> [ChatChannel] {
        channels.withLock { Array($0.values) }
    }

    public func saveChannel(_ channel: ChatChannel) async throws {
        channels.withLock { channels in
            var saved = channel
            saved.lastMessageID = max(channel.lastMessageID, channels[channel.id]?.lastMessageID)
            channels[channel.id] = saved
        }
    }

    public func recordLastMessages(_ lastMessages: [Snowflake: Snowflake]) async throws {
        channels.withLock { channels in
            for (channel, message) in lastMessages {
                guard var stored = channels[channel] else { continue }
                stored.lastMessageID = max(stored.lastMessageID, message)
                channels[channel] = stored
            }
        }
    }
}

/// The larger of two optional Snowflakes (nil is smaller than any ID).
func max(_ first: Snowflake?, _ second: Snowflake?) -> Snowflake? {
    switch (first, second) {
    case let (first?, second?): Swift.max(first, second)
    case let (first?, nil): first
    case let (nil, second): second
    }
}
