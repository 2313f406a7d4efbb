import Snowflake
import Synchronization

/// One partition of the cache: its table and its in-flight loads behind one lock.
///
/// One object per shard (not per entry): `Mutex` is `~Copyable`, so an array of
/// shards needs a class around each.
final class ReadStateShard: Sendable {
    struct State: ~Copyable {
        var table: ShardTable
        /// Users being loaded right now: a second miss for the same user awaits the
        /// same task instead of loading again. Small (concurrent misses only).
        var loading: [UInt64: Task<Void, any Error>] = [:]
    }

    let state: Mutex<State>

    init(table: consuming ShardTable) {
        state = Mutex(State(table: table))
    }

    /// Runs `body` on the table under the lock, then, still under it, hands each
    /// eviction `body` caused to `evicted`.
    @inline(__always)
    func withTable<Result>(
        _ body: (inout ShardTable, inout [Eviction]) throws(ReadStatesError) -> Result,
        evicted: (Eviction) -> Void
    ) throws(ReadStatesError) -> Result {
        try state.withLock { (state) throws(ReadStatesError) -> Result in
            var evictions: [Eviction] = []
            let result = try body(&state.table, &evictions)
            for eviction in evictions { evicted(eviction) }
            return result
        }
    }
}
