import Snowflake

/// A user the cache dropped, with the states persistence has not seen yet.
struct Eviction {
    var user: Snowflake
    var dirtyStates: [ReadState]
}

/// Handing out slots and user records, and evicting least recently used users to
/// make room. Eviction frees a user's slots one by one onto the free list: there is
/// no large free, and the work is proportional to that one user.
extension ShardTable {
    /// A free slot, evicting least recently used users (never `protected`) as needed.
    /// - Returns: nil when only the protected user is left and the shard is full.
    mutating func allocateSlot(protecting protected: UInt32, evictions: inout [Eviction]) -> UInt32? {
        while true {
            if freeSlots != Self.slotMask {
                let slot = freeSlots
                freeSlots = slots[Int(slot)].link & Self.slotMask
                usedSlots += 1
                return slot
            }
            if slotHighWater < slotCapacity {
                let slot = UInt32(slotHighWater)
                slotHighWater += 1
                usedSlots += 1
                return slot
            }
            var victim = lruTail
            if victim == protected { victim = users[Int(victim)].lruPrevious }
            guard victim != Self.none else { return nil }
            evict(victim, into: &evictions)
        }
    }

    /// A fresh user record, linked at the head of the LRU and entered in the index.
    mutating func allocateUser(_ user: UInt64, evictions: inout [Eviction]) -> UInt32 {
        let record: UInt32
        if freeUsers != Self.none {
            record = freeUsers
            freeUsers = users[Int(record)].lruNext
        } else if userHighWater < userCapacity {
            record = UInt32(userHighWater)
            userHighWater += 1
        } else {
            evict(lruTail, into: &evictions)
            record = freeUsers
            freeUsers = users[Int(record)].lruNext
        }
        users[Int(record)] = UserRecord(
            user: user,
            head: Self.slotMask,
            lruPrevious: Self.none,
            lruNext: Self.none,
            dirtySince: 0,
            epoch: epoch
        )
        userCount += 1
        insertIntoIndex(user: user, record: record)
        linkAtHead(record)
        return record
    }

    /// Drops a user and all its states; dirty ones are appended to `evictions`.
    mutating func evict(_ record: UInt32, into evictions: inout [Eviction]) {
        let user = users[Int(record)].user
        let isDirty = users[Int(record)].dirtySince != 0
        var dirty: [ReadState] = []
        var slot = users[Int(record)].head
        var freed = 0
        while slot != Self.slotMask {
            let link = slots[Int(slot)].link
            if link & Self.dirtyBit != 0 {
                dirty.append(state(at: slot))
            }
            slots[Int(slot)].link = freeSlots
            freeSlots = slot
            freed += 1
            slot = link & Self.slotMask
        }
        usedSlots -= freed
        statistics.evictedUsers += 1
        statistics.evictedStates += freed
        statistics.evictedDirtyStates += dirty.count
        statistics.dirtyStates -= dirty.count
        if isDirty || !dirty.isEmpty {
            evictions.append(Eviction(user: Snowflake(rawValue: user), dirtyStates: dirty))
        }

        removeFromIndex(user: user)
        unlink(record)
        users[Int(record)].dirtySince = 0
        users[Int(record)].head = Self.slotMask
        users[Int(record)].lruNext = freeUsers
        freeUsers = record
        userCount -= 1
    }

    /// The public value of a stored slot.
    @inline(__always)
    func state(at slot: UInt32) -> ReadState {
        let stored = slots[Int(slot)]
        return ReadState(
            channelID: Snowflake(rawValue: stored.channel),
            lastMessageID: Snowflake(rawValue: stored.message),
            mentionCount: Int(mentions[Int(slot)]),
            version: stored.version
        )
    }
}
