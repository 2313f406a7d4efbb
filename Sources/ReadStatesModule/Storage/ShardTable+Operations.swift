import Snowflake

/// The read-state operations on one shard. Each returns nil when the user is not
/// cached: the caller loads the user (off this lock) and tries again.
extension ShardTable {
    /// Finds a user's state for a channel, and the highest version among the user's
    /// states seen on the way (a change gets that + 1, so a user's versions only grow).
    @inline(__always)
    func locate(channel: UInt64, of record: UInt32) -> (slot: UInt32?, highestVersion: UInt32) {
        var highest: UInt32 = 0
        var slot = users[Int(record)].head
        while slot != Self.slotMask {
            let stored = slots[Int(slot)]
            if stored.channel == channel { return (slot, max(highest, userHighestVersion(record, from: slot))) }
            highest = max(highest, stored.version)
            slot = stored.link & Self.slotMask
        }
        return (nil, highest)
    }

    /// The highest version from `slot` to the end of the user's chain (the rest of the
    /// walk `locate` cut short when it found its channel).
    @inline(__always)
    private func userHighestVersion(_ record: UInt32, from start: UInt32) -> UInt32 {
        var highest: UInt32 = 0
        var slot = start
        while slot != Self.slotMask {
            highest = max(highest, slots[Int(slot)].version)
            slot = slots[Int(slot)].link & Self.slotMask
        }
        return highest
    }

    @inline(__always)
    mutating func markDirty(_ slot: UInt32, of record: UInt32, clock: ReadStatesClock) {
        if slots[Int(slot)].link & Self.dirtyBit == 0 {
            slots[Int(slot)].link |= Self.dirtyBit
            statistics.dirtyStates += 1
        }
        if users[Int(record)].dirtySince == 0 {
            users[Int(record)].dirtySince = UInt16(clock.seconds() % Self.tickModulus) + 1
        }
    }

    /// Adds a state at the head of a user's chain.
    mutating func insertState(
        _ state: ReadState,
        into record: UInt32,
        dirty: Bool,
        clock: ReadStatesClock,
        evictions: inout [Eviction]
    ) throws(ReadStatesError) -> UInt32 {
        guard let slot = allocateSlot(protecting: record, evictions: &evictions) else {
            throw .userExceedsShardCapacity(user: Snowflake(rawValue: users[Int(record)].user), capacity: slotCapacity)
        }
        slots[Int(slot)] = StateSlot(
            channel: state.channelID.rawValue,
            message: state.lastMessageID.rawValue,
            version: state.version,
            link: users[Int(record)].head
        )
        mentions[Int(slot)] = UInt16(clamping: state.mentionCount)
        users[Int(record)].head = slot
        if dirty { markDirty(slot, of: record, clock: clock) }
        return slot
    }

    /// An operation on a state the user does not have yet, which reads as "nothing
    /// read, no mentions" (message 0, count 0, version 0).
    /// - Parameter values: what the operation makes of it, or nil when it changes nothing.
    private mutating func createMissing(
        _ values: (message: UInt64, mentionCount: UInt16)?,
        channel: UInt64,
        version: UInt32,
        in record: UInt32,
        clock: ReadStatesClock,
        evictions: inout [Eviction]
    ) throws(ReadStatesError) -> ReadStateChange {
        let channelID = Snowflake(rawValue: channel)
        guard let values else {
            return .unchanged(ReadState(channelID: channelID, lastMessageID: .zero, mentionCount: 0, version: 0))
        }
        let created = ReadState(
            channelID: channelID,
            lastMessageID: Snowflake(rawValue: values.message),
            mentionCount: Int(values.mentionCount),
            version: version
        )
        let slot = try insertState(created, into: record, dirty: true, clock: clock, evictions: &evictions)
        return .updated(state(at: slot))
    }

    mutating func ack(
        user: UInt64,
        channel: UInt64,
        message: UInt64,
        manual: Bool,
        mentionCount: UInt16,
        clock: ReadStatesClock,
        evictions: inout [Eviction]
    ) throws(ReadStatesError) -> ReadStateChange? {
        guard let record = lookUp(user) else { return nil }
        let (found, highestVersion) = locate(channel: channel, of: record)
        guard let slot = found else {
            // A plain ack of message 0 is not newer than "nothing read".
            return try createMissing(
                manual || message > 0 ? (message: message, mentionCount: mentionCount) : nil,
                channel: channel,
                version: highestVersion &+ 1,
                in: record,
                clock: clock,
                evictions: &evictions
            )
        }
        let stored = slots[Int(slot)]
        let changes = manual
            ? stored.message != message || mentions[Int(slot)] != mentionCount
            : message > stored.message
        guard changes else { return .unchanged(state(at: slot)) }
        slots[Int(slot)].message = message
        slots[Int(slot)].version = highestVersion &+ 1
        mentions[Int(slot)] = mentionCount
        markDirty(slot, of: record, clock: clock)
        return .updated(state(at: slot))
    }

    mutating func mention(
        user: UInt64,
        channel: UInt64,
        message: UInt64,
        clock: ReadStatesClock,
        evictions: inout [Eviction]
    ) throws(ReadStatesError) -> ReadStateChange? {
        guard let record = lookUp(user) else { return nil }
        let (found, highestVersion) = locate(channel: channel, of: record)
        guard let slot = found else {
            return try createMissing(
                message > 0 ? (message: 0, mentionCount: 1) : nil,
                channel: channel,
                version: highestVersion &+ 1,
                in: record,
                clock: clock,
                evictions: &evictions
            )
        }
        guard slots[Int(slot)].message < message, mentions[Int(slot)] < UInt16.max else {
            return .unchanged(state(at: slot))
        }
        mentions[Int(slot)] += 1
        slots[Int(slot)].version = highestVersion &+ 1
        markDirty(slot, of: record, clock: clock)
        return .updated(state(at: slot))
    }

    mutating func readStates(of user: UInt64) -> [ReadState]? {
        guard let record = lookUp(user) else { return nil }
        var states: [ReadState] = []
        var slot = users[Int(record)].head
        while slot != Self.slotMask {
            states.append(state(at: slot))
            slot = slots[Int(slot)].link & Self.slotMask
        }
        return states
    }

    /// Finds a user, counts the hit or miss, and marks the user most recently used.
    @inline(__always)
    mutating func lookUp(_ user: UInt64) -> UInt32? {
        guard let record = find(user) else {
            statistics.misses += 1
            return nil
        }
        statistics.hits += 1
        touch(record)
        return record
    }

    /// Puts a user loaded from persistence into the cache, as clean states. A user
    /// already cached keeps what the cache has (it is never older than the store's).
    mutating func insertLoaded(
        user: UInt64,
        states: [ReadState],
        evictions: inout [Eviction]
    ) throws(ReadStatesError) {
        guard states.count <= slotCapacity else {
            throw .userExceedsShardCapacity(user: Snowflake(rawValue: user), capacity: slotCapacity)
        }
        statistics.loads += 1
        let record: UInt32
        let alreadyCached: Bool
        if let cached = find(user) {
            record = cached
            alreadyCached = true
            touch(record)
        } else {
            record = allocateUser(user, evictions: &evictions)
            alreadyCached = false
        }
        // A store holds one state per channel, so a fresh user needs no duplicate check
        // (which would cost time quadratic in the user's states under the lock).
        for state in states where !alreadyCached || locate(channel: state.channelID.rawValue, of: record).slot == nil {
            _ = try insertState(state, into: record, dirty: false, clock: ReadStatesClock { 0 }, evictions: &evictions)
        }
    }

    /// Copies out and marks clean the dirty states of users whose first unflushed change
    /// is at least `age` seconds before `now` (both from ``ReadStatesClock``), scanning
    /// user records from `cursor` for at most `limit` records, so the lock is held for
    /// a bounded slice of the table.
    /// - Returns: where the next slice starts (0 after the last record).
    mutating func collectDirty(
        from cursor: Int,
        limit: Int,
        now: UInt32,
        age: UInt32,
        into batch: inout [UserReadState]
    ) -> Int {
        let end = min(cursor + limit, userHighWater)
        let modulus = Int(Self.tickModulus)
        let nowTick = Int(now % Self.tickModulus)
        var record = cursor
        while record < end {
            let since = users[record].dirtySince
            if since != 0 {
                // Ticks wrap; the difference modulo the wrap is the age.
                let dirtyFor = (nowTick - Int(since - 1) + modulus) % modulus
                if dirtyFor >= Int(age) { takeDirty(of: UInt32(record), into: &batch) }
            }
            record += 1
        }
        return end >= userHighWater ? 0 : end
    }

    /// Copies out a user's dirty states and marks them clean.
    mutating func takeDirty(of record: UInt32, into batch: inout [UserReadState]) {
        let user = Snowflake(rawValue: users[Int(record)].user)
        var slot = users[Int(record)].head
        while slot != Self.slotMask {
            let link = slots[Int(slot)].link
            if link & Self.dirtyBit != 0 {
                batch.append(UserReadState(userID: user, state: state(at: slot)))
                slots[Int(slot)].link = link & Self.slotMask
                statistics.dirtyStates -= 1
            }
            slot = link & Self.slotMask
        }
        users[Int(record)].dirtySince = 0
    }

    var currentStatistics: ShardStatistics {
        var result = statistics
        result.readStates = usedSlots
        result.users = userCount
        return result
    }
}
