import Snowflake
import Synchronization

extension ReadStates {
    /// Copies out, and marks clean, the dirty states of users that first changed at least
    /// `age` seconds before `now` (from ``ReadStatesClock``), scanning at most `usersPerShard`
    /// blocks (user records and later blocks) of each shard, each shard from where the
    /// previous call stopped.
    ///
    /// The write-behind flusher calls this repeatedly: each call holds each shard's
    /// lock for one bounded slice only, so a full pass never stalls an operation.
    /// `cursors` carries the pass between calls (start with an empty array): a shard
    /// that reached its end is skipped by later calls, so one pass scans every block
    /// once, however unequal the shards. (Before, a finished shard started
    /// over until all finished in the same call, and a pass could rescan the table
    /// many times.)
    /// - Returns: the dirty states, and whether every shard finished its pass.
    public func collectDirty(
        now: UInt32,
        age: UInt32,
        cursors: inout [Int],
        usersPerShard: Int
    ) -> (states: [UserReadState], passComplete: Bool) {
        if cursors.count != shards.count { cursors = Array(repeating: 0, count: shards.count) }
        var batch: [UserReadState] = []
        // Each slice is copied into `slice` under the lock and appended to `batch`
        // after it: `batch` grows to many thousands of states, and growing it under a
        // shard's lock (a reallocation and a copy of megabytes) stalled that shard.
        // `slice` keeps its capacity, so it stops growing after the first slices.
        var slice: [UserReadState] = []
        var complete = true
        for (position, shard) in shards.enumerated() where cursors[position] >= 0 {
            let next = shard.state.withLock { state in
                state.table.collectDirty(
                    from: cursors[position],
                    limit: usersPerShard,
                    now: now,
                    age: age,
                    into: &slice
                )
            }
            batch.append(contentsOf: slice)
            slice.removeAll(keepingCapacity: true)
            // 0: the shard wrapped around, its pass is done (-1 from now on).
            cursors[position] = next == 0 ? -1 : next
            if next != 0 { complete = false }
        }
        return (batch, complete)
    }
}
