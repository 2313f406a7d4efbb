extension ShardTable {
    /// Evicts every cached user `predicate` selects, whatever its place in the LRU;
    /// dirty states are appended to `evictions` as an ordinary eviction's are.
    /// - Returns: how many users were evicted.
    mutating func evictUsers(where predicate: (UInt64) -> Bool, into evictions: inout [Eviction]) -> Int {
        // First the records (a user's first block is the one the index points at),
        // then the evictions: evicting frees blocks under the scan.
        var records: [UInt32] = []
        for position in 0..<blocksTaken {
            let block = chunks[position / BlockArena.chunkBlocks] + position % BlockArena.chunkBlocks
            let user = users[block].user
            guard find(user) == UInt32(block), predicate(user) else { continue }
            records.append(UInt32(block))
        }
        for record in records { evict(record, into: &evictions) }
        return records.count
    }
}
