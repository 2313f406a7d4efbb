import Snowflake

/// A user the cache dropped, with the states persistence has not seen yet.
struct Eviction {
    var user: Snowflake
    var dirtyStates: [ReadState]
}

/// Handing out blocks, and evicting least recently used users to make room. Eviction
/// frees a user's blocks one by one onto the free list: there is no large free, and
/// the work is proportional to that one user.
extension ShardTable {
    /// Evicts least recently used users (never `protected`) until one more read state
    /// fits, and a block is free when `needsBlock`.
    /// - Returns: false when only the protected user is left and it still does not fit.
    mutating func makeRoom(protecting protected: UInt32, needsBlock: Bool, evictions: inout [Eviction]) -> Bool {
        while usedStates >= stateCapacity || (needsBlock && !hasFreeBlock) {
            var victim = lruTail
            if victim == protected { victim = users[Int(victim)].lruPrevious }
            guard victim != Self.none else { return false }
            evict(victim, into: &evictions)
        }
        return true
    }

    var hasFreeBlock: Bool {
        freeBlocks != Self.none || blocksTaken < blockCapacity
    }

    /// A block from the free list or the arena, its header cleared; the caller made
    /// sure there is one.
    mutating func takeBlock() -> UInt32 {
        let block: UInt32
        if freeBlocks != Self.none {
            block = freeBlocks
            freeBlocks = users[Int(block)].next
        } else {
            if nextBlock == chunkEnd {
                nextBlock = arena.takeChunk()
                chunkEnd = nextBlock + BlockArena.chunkBlocks
                chunks.append(nextBlock)
            }
            block = UInt32(nextBlock)
            nextBlock += 1
            blocksTaken += 1
        }
        users[Int(block)] = UserRecord(
            user: 0,
            next: Self.none,
            stateCount: 0,
            lruPrevious: Self.none,
            lruNext: Self.none,
            version: 0,
            dirtySince: 0,
            epoch: 0
        )
        return block
    }

    /// A fresh user with no states (its first block), linked at the head of the LRU
    /// and entered in the index.
    mutating func allocateUser(_ user: UInt64, evictions: inout [Eviction]) -> UInt32 {
        while userCount >= userCapacity || !hasFreeBlock {
            evict(lruTail, into: &evictions)
        }
        let record = takeBlock()
        users[Int(record)].user = user
        userCount += 1
        insertIntoIndex(user: user, record: record)
        linkAtHead(record)
        return record
    }

    /// Drops a user and all its states; dirty ones are appended to `evictions`.
    mutating func evict(_ record: UInt32, into evictions: inout [Eviction]) {
        let user = users[Int(record)].user
        let isDirty = users[Int(record)].dirtySince != 0
        let count = Int(users[Int(record)].stateCount)
        var dirty: [ReadState] = []
        forEachSlot(of: record) { slot in
            if slots[slot].flags & StateSlot.dirty != 0 { dirty.append(state(at: slot)) }
        }
        usedStates -= count
        statistics.evictedUsers += 1
        statistics.evictedStates += count
        statistics.evictedDirtyStates += dirty.count
        statistics.dirtyStates -= dirty.count
        if isDirty || !dirty.isEmpty {
            evictions.append(Eviction(user: Snowflake(rawValue: user), dirtyStates: dirty))
        }

        removeFromIndex(user: user)
        unlink(record)
        userCount -= 1
        // Free the blocks; a free block's header is clean (a scan for dirty users
        // looks at every block's `dirtySince`).
        var block = record
        while block != Self.none {
            let next = users[Int(block)].next
            users[Int(block)].dirtySince = 0
            users[Int(block)].stateCount = 0
            users[Int(block)].next = freeBlocks
            freeBlocks = block
            block = next
        }
    }

    /// The public value of a stored slot.
    @inline(__always)
    func state(at slot: Int) -> ReadState {
        let stored = slots[slot]
        return ReadState(
            channelID: Snowflake(rawValue: stored.channel),
            lastMessageID: Snowflake(rawValue: stored.message),
            mentionCount: Int(stored.mentionCount),
            version: stored.version
        )
    }
}
