/// A full consistency check of the structure, for tests after randomized operation
/// sequences. It walks every table, so it exists in debug builds only.
extension ShardTable {
    #if DEBUG
    func checkInvariants() {
        // Index: every entry names a live record that a lookup finds.
        var indexed = 0
        for bucket in 0..<bucketCount where index[bucket] != 0 {
            indexed += 1
            let record = index[bucket] - 1
            precondition(Int(record) < userHighWater, "index entry beyond the user high-water mark")
            precondition(find(users[Int(record)].user) == record, "index entry unreachable by lookup")
        }
        precondition(indexed == userCount, "index holds \(indexed) users, count says \(userCount)")

        // LRU: a consistent doubly linked list of exactly the indexed users.
        var listed = 0
        var previous = Self.none
        var record = lruHead
        var chained = 0
        var dirty = 0
        while record != Self.none {
            listed += 1
            precondition(listed <= userCount, "LRU list has a cycle")
            let user = users[Int(record)]
            precondition(user.lruPrevious == previous, "LRU back link broken")
            precondition(find(user.user) == record, "LRU user not in the index")
            var channels = Set<UInt64>()
            var userDirty = 0
            var slot = user.head
            while slot != Self.slotMask {
                precondition(Int(slot) < slotHighWater, "slot beyond the high-water mark")
                let stored = slots[Int(slot)]
                precondition(channels.insert(stored.channel).inserted, "channel twice in one user's chain")
                if stored.link & Self.dirtyBit != 0 { userDirty += 1 }
                chained += 1
                precondition(chained <= usedSlots, "slot chains hold more than the used count")
                slot = stored.link & Self.slotMask
            }
            precondition((userDirty > 0) == (user.dirtySince != 0), "user dirty mark disagrees with its states")
            dirty += userDirty
            previous = record
            record = user.lruNext
        }
        precondition(previous == lruTail, "LRU tail is not the last user")
        precondition(listed == userCount, "LRU lists \(listed) users, count says \(userCount)")
        precondition(chained == usedSlots, "chains hold \(chained) slots, count says \(usedSlots)")
        precondition(dirty == statistics.dirtyStates, "\(dirty) dirty slots, count says \(statistics.dirtyStates)")

        // Free lists: together with the used ones, exactly the high-water marks.
        var freeSlotCount = 0
        var slot = freeSlots
        while slot != Self.slotMask {
            freeSlotCount += 1
            precondition(freeSlotCount <= slotHighWater, "free slot list has a cycle")
            slot = slots[Int(slot)].link & Self.slotMask
        }
        precondition(freeSlotCount + usedSlots == slotHighWater, "slots leaked or double-freed")
        var freeUserCount = 0
        record = freeUsers
        while record != Self.none {
            freeUserCount += 1
            precondition(freeUserCount <= userHighWater, "free user list has a cycle")
            precondition(users[Int(record)].dirtySince == 0, "a free user record is marked dirty")
            record = users[Int(record)].lruNext
        }
        precondition(freeUserCount + userCount == userHighWater, "user records leaked or double-freed")
    }
    #endif
}
