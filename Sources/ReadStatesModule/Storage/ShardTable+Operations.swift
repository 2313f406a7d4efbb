import Snowflake

/// The read-state operations on one shard. Each returns nil when the user is not
/// cached: the caller loads the user (off this lock) and tries again.
extension ShardTable {
    /// Finds a user's state for a channel.
    /// - Returns: its slot, or nil; and the user's last block, where a new state goes.
    @inline(__always)
    func locate(channel: UInt64, of record: UInt32) -> (slot: Int?, lastBlock: UInt32) {
        var remaining = Int(users[Int(record)].stateCount)
        var block = record
        while remaining > Self.blockSize {
            let base = Int(block) &* Self.blockSize
            for slot in base..<base + Self.blockSize where slots[slot].channel == channel { return (slot, block) }
            remaining -= Self.blockSize
            block = users[Int(block)].next
        }
        let base = Int(block) &* Self.blockSize
        for slot in base..<base + remaining where slots[slot].channel == channel { return (slot, block) }
        return (nil, block)
    }

    /// The user's last block.
    func lastBlock(of record: UInt32) -> UInt32 {
        var block = record
        var remaining = Int(users[Int(record)].stateCount)
        while remaining > Self.blockSize {
            block = users[Int(block)].next
            remaining -= Self.blockSize
        }
        return block
    }

    /// Calls `body` with the slot of each of a user's states, oldest first.
    @inline(__always)
    func forEachSlot(of record: UInt32, _ body: (Int) -> Void) {
        var remaining = Int(users[Int(record)].stateCount)
        var block = record
        while remaining > 0 {
            let base = Int(block) &* Self.blockSize
            let inBlock = min(remaining, Self.blockSize)
            for slot in base..<base + inBlock { body(slot) }
            remaining -= inBlock
            block = users[Int(block)].next
        }
    }

    /// The next version of a user's states (see ``UserRecord/version``).
    @inline(__always)
    mutating func nextVersion(of record: UInt32) -> UInt32 {
        users[Int(record)].version &+= 1
        return users[Int(record)].version
    }

    @inline(__always)
    mutating func markDirty(_ slot: Int, of record: UInt32, clock: ReadStatesClock) {
        if slots[slot].flags & StateSlot.dirty == 0 {
            slots[slot].flags |= StateSlot.dirty
            statistics.dirtyStates += 1
        }
        if users[Int(record)].dirtySince == 0 {
            users[Int(record)].dirtySince = UInt16(clock.seconds() % Self.tickModulus) + 1
        }
    }

    /// Appends a state to a user's last block, or to a new block after a full `lastBlock`.
    mutating func insertState(
        _ state: ReadState,
        into record: UInt32,
        after lastBlock: UInt32,
        dirty: Bool,
        clock: ReadStatesClock,
        evictions: inout [Eviction]
    ) throws(ReadStatesError) -> Int {
        let count = Int(users[Int(record)].stateCount)
        let needsBlock = count > 0 && count % Self.blockSize == 0
        guard makeRoom(protecting: record, needsBlock: needsBlock, evictions: &evictions) else {
            throw .userExceedsShardCapacity(user: Snowflake(rawValue: users[Int(record)].user), capacity: stateCapacity)
        }
        var block = lastBlock
        if needsBlock {
            block = takeBlock()
            users[Int(lastBlock)].next = block
        }
        let slot = Int(block) &* Self.blockSize + count % Self.blockSize
        slots[slot] = StateSlot(
            channel: state.channelID.rawValue,
            message: state.lastMessageID.rawValue,
            version: state.version,
            mentionCount: UInt16(clamping: state.mentionCount),
            flags: 0
        )
        users[Int(record)].stateCount += 1
        users[Int(record)].version = max(users[Int(record)].version, state.version)
        usedStates += 1
        if dirty { markDirty(slot, of: record, clock: clock) }
        return slot
    }

    /// An operation on a state the user does not have yet, which reads as "nothing
    /// read, no mentions" (message 0, count 0, version 0).
    /// - Parameter values: what the operation makes of it, or nil when it changes nothing.
    private mutating func createMissing(
        _ values: (message: UInt64, mentionCount: UInt16)?,
        channel: UInt64,
        in record: UInt32,
        after lastBlock: UInt32,
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
            version: users[Int(record)].version &+ 1
        )
        let slot = try insertState(created, into: record, after: lastBlock, dirty: true, clock: clock, evictions: &evictions)
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
        let (found, lastBlock) = locate(channel: channel, of: record)
        guard let slot = found else {
            // A plain ack of message 0 is not newer than "nothing read".
            return try createMissing(
                manual || message > 0 ? (message: message, mentionCount: mentionCount) : nil,
                channel: channel,
                in: record,
                after: lastBlock,
                clock: clock,
                evictions: &evictions
            )
        }
        let stored = slots[slot]
        let changes = manual
            ? stored.message != message || stored.mentionCount != mentionCount
            : message > stored.message
        guard changes else { return .unchanged(state(at: slot)) }
        slots[slot].message = message
        slots[slot].mentionCount = mentionCount
        slots[slot].version = nextVersion(of: record)
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
        let (found, lastBlock) = locate(channel: channel, of: record)
        guard let slot = found else {
            return try createMissing(
                message > 0 ? (message: 0, mentionCount: 1) : nil,
                channel: channel,
                in: record,
                after: lastBlock,
                clock: clock,
                evictions: &evictions
            )
        }
        guard slots[slot].message < message, slots[slot].mentionCount < UInt16.max else {
            return .unchanged(state(at: slot))
        }
        slots[slot].mentionCount += 1
        slots[slot].version = nextVersion(of: record)
        markDirty(slot, of: record, clock: clock)
        return .updated(state(at: slot))
    }

    mutating func readStates(of user: UInt64) -> [ReadState]? {
        guard let record = lookUp(user) else { return nil }
        var states: [ReadState] = []
        states.reserveCapacity(Int(users[Int(record)].stateCount))
        forEachSlot(of: record) { states.append(state(at: $0)) }
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
        guard states.count <= stateCapacity else {
            throw .userExceedsShardCapacity(user: Snowflake(rawValue: user), capacity: stateCapacity)
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
        var lastBlock = self.lastBlock(of: record)
        for state in states {
            if alreadyCached {
                let found = locate(channel: state.channelID.rawValue, of: record)
                if found.slot != nil { continue }
                lastBlock = found.lastBlock
            }
            let slot = try insertState(
                state,
                into: record,
                after: lastBlock,
                dirty: false,
                clock: ReadStatesClock { 0 },
                evictions: &evictions
            )
            lastBlock = UInt32(slot / Self.blockSize)
        }
    }

    /// Copies out and marks clean the dirty states of users whose first unflushed change
    /// is at least `age` seconds before `now` (both from ``ReadStatesClock``), scanning
    /// the shard's blocks from `cursor` (a position among the blocks taken, in the
    /// order taken) for at most `limit` blocks, so the lock is held for a bounded slice.
    /// A block that is not a user's first has a clean header and is passed over.
    /// - Returns: where the next slice starts (0 after the last block).
    mutating func collectDirty(
        from cursor: Int,
        limit: Int,
        now: UInt32,
        age: UInt32,
        into batch: inout [UserReadState]
    ) -> Int {
        let end = min(cursor + limit, blocksTaken)
        let modulus = Int(Self.tickModulus)
        let nowTick = Int(now % Self.tickModulus)
        var position = cursor
        while position < end {
            let block = chunks[position / BlockArena.chunkBlocks] + position % BlockArena.chunkBlocks
            let since = users[block].dirtySince
            if since != 0 {
                // Ticks wrap; the difference modulo the wrap is the age.
                let dirtyFor = (nowTick - Int(since - 1) + modulus) % modulus
                if dirtyFor >= Int(age) { takeDirty(of: UInt32(block), into: &batch) }
            }
            position += 1
        }
        return end >= blocksTaken ? 0 : end
    }

    /// Copies out a user's dirty states and marks them clean.
    mutating func takeDirty(of record: UInt32, into batch: inout [UserReadState]) {
        let user = Snowflake(rawValue: users[Int(record)].user)
        var cleaned = 0
        forEachSlot(of: record) { slot in
            if slots[slot].flags & StateSlot.dirty != 0 {
                batch.append(UserReadState(userID: user, state: state(at: slot)))
                slots[slot].flags &= ~StateSlot.dirty
                cleaned += 1
            }
        }
        statistics.dirtyStates -= cleaned
        users[Int(record)].dirtySince = 0
    }

    var currentStatistics: ShardStatistics {
        var result = statistics
        result.readStates = usedStates
        result.users = userCount
        return result
    }
}
