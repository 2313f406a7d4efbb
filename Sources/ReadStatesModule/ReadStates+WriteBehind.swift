public import Snowflake
import Synchronization

extension ReadStates {
    /// Copies out, and marks clean, the dirty states of users that first changed at least
    /// `age` seconds before `now` (from ``ReadStatesClock``), scanning at most `usersPerShard`
    /// user records of each shard starting at each shard's `cursor`.
    ///
    /// The write-behind flusher calls this repeatedly: each call holds each shard's
    /// lock for one bounded slice only, so a full pass never stalls an operation.
    /// - Returns: the dirty states, and whether every shard finished its pass.
    public func collectDirty(
        now: UInt32,
        age: UInt32,
        cursors: inout [Int],
        usersPerShard: Int
    ) -> (states: [UserReadState], passComplete: Bool) {
        if cursors.count != shards.count { cursors = Array(repeating: 0, count: shards.count) }
        var batch: [UserReadState] = []
        var complete = true
        for (position, shard) in shards.enumerated() {
            let next = shard.state.withLock { state in
                state.table.collectDirty(
                    from: cursors[position],
                    limit: usersPerShard,
                    now: now,
                    age: age,
                    into: &batch
                )
            }
            cursors[position] = next
            if next != 0 { complete = false }
        }
        return (batch, complete)
    }
}
