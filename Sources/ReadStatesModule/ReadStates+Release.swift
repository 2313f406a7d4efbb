public import Snowflake

extension ReadStates {
    /// Drops from the cache every user `predicate` selects, handing their dirty states
    /// to persistence as an eviction does (the write-behind writes them at its next
    /// round, or at once with `flush(everything: true)`).
    ///
    /// A cluster node calls this for the users it no longer owns after a node joined:
    /// the new owner loads them from the store once they are written.
    /// - Returns: how many users were dropped.
    @discardableResult
    public func release(where predicate: (Snowflake) -> Bool) -> Int {
        var released = 0
        for shard in shards {
            // The body throws nothing: `withTable`'s typed throws is for other bodies.
            released += (try? shard.withTable({ table, evictions in
                table.evictUsers(where: { predicate(Snowflake(rawValue: $0)) }, into: &evictions)
            }) { eviction in
                persistence.evicted(user: eviction.user, dirtyStates: eviction.dirtyStates)
            }) ?? 0
        }
        return released
    }

    /// The same for one user, in its own shard: no scan of the cache.
    /// - Returns: whether the user was cached.
    @discardableResult
    public func release(user: Snowflake) -> Bool {
        let released = try? shard(for: user).withTable({ table, evictions -> Bool in
            guard let record = table.find(user.rawValue) else { return false }
            table.evict(record, into: &evictions)
            return true
        }) { eviction in
            persistence.evicted(user: eviction.user, dirtyStates: eviction.dirtyStates)
        }
        return released ?? false
    }
}
