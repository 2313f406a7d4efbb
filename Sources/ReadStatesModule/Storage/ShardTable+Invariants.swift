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
            precondition(isTaken(record), "index entry names a block the shard does not have")
            precondition(find(users[Int(record)].user) == record, "index entry unreachable by lookup")
        }
        precondition(indexed == userCount, "index holds \(indexed) users, count says \(userCount)")

        // LRU: a consistent doubly linked list of exactly the indexed users.
        var listed = 0
        var previous = Self.none
        var record = lruHead
        var stored = 0
        var usedBlocks = 0
        var dirty = 0
        while record != Self.none {
            listed += 1
            precondition(listed <= userCount, "LRU list has a cycle")
            let user = users[Int(record)]
            precondition(user.lruPrevious == previous, "LRU back link broken")
            precondition(find(user.user) == record, "LRU user not in the index")
            // Blocks: exactly enough for the user's states (at least its first), all the shard's.
            let blocks = max((Int(user.stateCount) + Self.blockSize - 1) / Self.blockSize, 1)
            var block = record
            for position in 0..<blocks {
                precondition(isTaken(block), "a user's block the shard does not have")
                if position > 0 {
                    let header = users[Int(block)]
                    precondition(header.dirtySince == 0 && header.stateCount == 0, "a later block's header is not clean")
                }
                if position < blocks - 1 { block = users[Int(block)].next }
            }
            precondition(users[Int(block)].next == Self.none, "a user's block chain does not end after its last block")
            usedBlocks += blocks
            var channels = Set<UInt64>()
            var userDirty = 0
            forEachSlot(of: record) { slot in
                let state = slots[slot]
                precondition(channels.insert(state.channel).inserted, "channel twice in one user's states")
                precondition(state.version <= user.version, "a state's version above its user's")
                if state.flags & StateSlot.dirty != 0 { userDirty += 1 }
            }
            stored += Int(user.stateCount)
            precondition((userDirty > 0) == (user.dirtySince != 0), "user dirty mark disagrees with its states")
            dirty += userDirty
            previous = record
            record = user.lruNext
        }
        precondition(previous == lruTail, "LRU tail is not the last user")
        precondition(listed == userCount, "LRU lists \(listed) users, count says \(userCount)")
        precondition(stored == usedStates, "users hold \(stored) states, count says \(usedStates)")
        precondition(usedStates <= stateCapacity, "more states than the capacity")
        precondition(dirty == statistics.dirtyStates, "\(dirty) dirty slots, count says \(statistics.dirtyStates)")

        // Free list: together with the used blocks, exactly the blocks taken.
        var freeBlockCount = 0
        var block = freeBlocks
        while block != Self.none {
            freeBlockCount += 1
            precondition(freeBlockCount <= blocksTaken, "free block list has a cycle")
            precondition(users[Int(block)].dirtySince == 0, "a free block is marked dirty")
            block = users[Int(block)].next
        }
        precondition(freeBlockCount + usedBlocks == blocksTaken, "blocks leaked or double-freed")
        precondition(blocksTaken <= blockCapacity, "more blocks than the shard's share")
    }

    /// Whether a block is one the shard took from the arena.
    func isTaken(_ block: UInt32) -> Bool {
        let position = chunks.firstIndex { Int(block) >= $0 && Int(block) < $0 + BlockArena.chunkBlocks }
        guard let position else { return false }
        return position < chunks.count - 1 || Int(block) < nextBlock
    }
    #endif
}
