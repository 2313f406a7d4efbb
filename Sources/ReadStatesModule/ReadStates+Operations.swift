public import Snowflake
import Synchronization

extension ReadStates {
    // MARK: Inline forms: never suspend, nil when the user is not cached.

    /// Marks a channel read up to `messageID` if the user is cached.
    ///
    /// A plain ack moves the marker only forwards (Snowflake order), so acks from two
    /// devices may arrive in any order; an older or equal one is `.unchanged`. A
    /// `manual` ack ("mark unread") sets the marker and the count to exactly what it is
    /// given, backwards too.
    /// - Returns: the change, or nil when the user must be loaded first.
    public func ackIfCached(
        user: Snowflake,
        channel: Snowflake,
        messageID: Snowflake,
        manual: Bool = false,
        mentionCount: Int = 0
    ) throws(ReadStatesError) -> ReadStateChange? {
        let count = UInt16(clamping: max(mentionCount, 0))
        return try onShard(of: user) { (table, evictions) throws(ReadStatesError) in
            try table.ack(
                user: user.rawValue,
                channel: channel.rawValue,
                message: messageID.rawValue,
                manual: manual,
                mentionCount: count,
                clock: clock,
                evictions: &evictions
            )
        }
    }

    /// Counts a mention of a cached user in a channel unless they already read past
    /// `messageID`. The count saturates at ``ReadState/maximumMentionCount``.
    /// - Returns: the change, or nil when the user must be loaded first.
    public func mentionIfCached(
        user: Snowflake,
        channel: Snowflake,
        messageID: Snowflake
    ) throws(ReadStatesError) -> ReadStateChange? {
        try onShard(of: user) { (table, evictions) throws(ReadStatesError) in
            try table.mention(
                user: user.rawValue,
                channel: channel.rawValue,
                message: messageID.rawValue,
                clock: clock,
                evictions: &evictions
            )
        }
    }

    /// All of a cached user's read states (for READY), or nil when not cached.
    public func readStatesIfCached(of user: Snowflake) -> [ReadState]? {
        let shard = shard(for: user)
        return shard.state.withLock { $0.table.readStates(of: user.rawValue) }
    }

    // MARK: Async forms: load the user on a miss.

    /// ``ackIfCached(user:channel:messageID:manual:mentionCount:)``, loading the user first
    /// when needed.
    public func ack(
        user: Snowflake,
        channel: Snowflake,
        messageID: Snowflake,
        manual: Bool = false,
        mentionCount: Int = 0
    ) async throws -> ReadStateChange {
        try await retryingAfterLoad(of: user) { () throws(ReadStatesError) in
            try ackIfCached(user: user, channel: channel, messageID: messageID, manual: manual, mentionCount: mentionCount)
        }
    }

    /// ``mentionIfCached(user:channel:messageID:)`` for one user, loading them first when needed.
    public func mention(user: Snowflake, channel: Snowflake, messageID: Snowflake) async throws -> ReadStateChange {
        try await retryingAfterLoad(of: user) { () throws(ReadStatesError) in
            try mentionIfCached(user: user, channel: channel, messageID: messageID)
        }
    }

    /// Counts a mention for each user, loading those not cached.
    /// - Returns: the users whose state changed, with the new state.
    public func mention(
        users: some Sequence<Snowflake>,
        channel: Snowflake,
        messageID: Snowflake
    ) async throws -> [(user: Snowflake, state: ReadState)] {
        var changed: [(user: Snowflake, state: ReadState)] = []
        for user in users {
            if case .updated(let state) = try await mention(user: user, channel: channel, messageID: messageID) {
                changed.append((user, state))
            }
        }
        return changed
    }

    /// All of a user's read states, loading the user first when needed.
    public func readStates(of user: Snowflake) async throws -> [ReadState] {
        try await retryingAfterLoad(of: user) { () throws(ReadStatesError) in
            readStatesIfCached(of: user)
        }
    }

    /// Makes sure a user is cached. Concurrent calls for one user share one load; the
    /// load runs outside every lock.
    public func load(user: Snowflake) async throws {
        let shard = shard(for: user)
        let pending: Task<Void, any Error>? = shard.state.withLock { state in
            if state.table.find(user.rawValue) != nil { return nil }
            if let running = state.loading[user.rawValue] { return running }
            let task = Task { [persistence] in
                let result: Result<[ReadState], any Error>
                do {
                    result = .success(try await persistence.load(user: user))
                } catch {
                    result = .failure(error)
                }
                try self.finishLoad(of: user, on: shard, with: result)
            }
            state.loading[user.rawValue] = task
            return task
        }
        try await pending?.value
    }

    private func finishLoad(
        of user: Snowflake,
        on shard: ReadStateShard,
        with result: Result<[ReadState], any Error>
    ) throws {
        // Insert first, forget the load after: no caller sees "neither cached nor
        // loading" in between, so nobody starts a second load of the same user.
        // Forgotten on failure too, so the next miss tries the store again instead of
        // awaiting this failed task forever.
        defer { shard.state.withLock { _ = $0.loading.removeValue(forKey: user.rawValue) } }
        let states = try result.get()
        try onShard(of: user) { (table, evictions) throws(ReadStatesError) in
            try table.insertLoaded(user: user.rawValue, states: states, evictions: &evictions)
        }
    }

    /// Tries an inline operation; on a miss loads the user and tries again. Under heavy
    /// eviction a freshly loaded user can be evicted again before the retry, so this
    /// loops rather than assume one load is enough.
    private func retryingAfterLoad<Result>(
        of user: Snowflake,
        _ operation: () throws(ReadStatesError) -> Result?
    ) async throws -> Result {
        while true {
            if let result = try operation() { return result }
            try await load(user: user)
        }
    }

    // MARK: Observation

    /// Counters summed over all shards (each shard's lock taken briefly in turn).
    public var statistics: ShardStatistics {
        var total = ShardStatistics()
        for shard in shards {
            total.add(shard.state.withLock { $0.table.currentStatistics })
        }
        return total
    }

    #if DEBUG
    /// Checks every shard's internal structure; traps on the first inconsistency.
    public func checkInvariants() {
        for shard in shards {
            shard.state.withLock { $0.table.checkInvariants() }
        }
    }
    #endif
}

extension ReadStates {
    /// Puts a user's states, as just loaded from a store, into the cache without
    /// suspending (for callers that loaded them themselves, such as a benchmark that
    /// simulates loads, or a warm-up). A user already cached keeps the cache's states.
    public func insertLoaded(user: Snowflake, states: [ReadState]) throws(ReadStatesError) {
        try onShard(of: user) { (table, evictions) throws(ReadStatesError) in
            try table.insertLoaded(user: user.rawValue, states: states, evictions: &evictions)
        }
    }
}
