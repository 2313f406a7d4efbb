import Snowflake
import Synchronization

/// The read-state engine: an in-process LRU cache of every cached user's read states,
/// partitioned into independently locked shards, loading misses through and handing
/// evicted dirty states to a ``ReadStatesPersistence``.
///
/// Every operation comes twice:
/// - `…IfCached` runs inline and never suspends: it returns nil when the user is not
///   cached. A gateway calls it on its event loop and falls back to the async form.
/// - the `async` form loads the user on a miss first (two concurrent misses for one
///   user load once) and never blocks a thread while it waits.
///
/// ## Threading
/// All methods are safe from any thread. A shard's lock is held only for the table
/// work of one operation (one user's blocks of states, plus evicting users to make
/// room), never across a load, a persistence call or a whole-table scan.
public final class ReadStates: Sendable {
    public let configuration: ReadStatesConfiguration
    let shards: [ReadStateShard]
    let persistence: any ReadStatesPersistence
    let clock: ReadStatesClock
    private let seed: UInt64
    /// The memory every shard's table lives in; freed with the engine.
    private let arena: BlockArena
    private let regions: [MemoryRegion]

    public init(
        configuration: ReadStatesConfiguration = .init(),
        persistence: any ReadStatesPersistence,
        clock: ReadStatesClock = .monotonic()
    ) {
        precondition(configuration.shards > 0 && configuration.capacity > 0, "capacity and shards must be positive")
        self.configuration = configuration
        self.persistence = persistence
        self.clock = clock
        self.seed = UInt64.random(in: .min ... .max)
        // A shard holds at least one read state: tiny caches get fewer shards.
        let count = min(configuration.shards, configuration.capacity)
        let statesPerShard = (configuration.capacity + count - 1) / count
        let usersPerShard = max((configuration.resolvedMaximumUsers + count - 1) / count, 1)
        let blocksPerShard = ShardTable.blocks(forStates: statesPerShard, users: usersPerShard)
        let bucketsPerShard = ShardTable.bucketCount(forUsers: usersPerShard)
        let arena = BlockArena(shards: count, blocksPerShard: blocksPerShard)
        let indexRegion = MemoryRegion(byteCount: count * bucketsPerShard * MemoryLayout<UInt32>.stride, hugePages: true)
        self.arena = arena
        regions = [indexRegion]
        shards = (0..<count).map { shard in
            ReadStateShard(
                table: ShardTable(
                    arena: arena,
                    blockCapacity: blocksPerShard,
                    stateCapacity: statesPerShard,
                    userCapacity: usersPerShard,
                    index: indexRegion.pointer(to: UInt32.self, offset: shard * bucketsPerShard, count: bucketsPerShard),
                    bucketCount: bucketsPerShard,
                    seed: UInt64.random(in: .min ... .max)
                )
            )
        }
    }

    /// Shards take the high bits of a mixed user ID; tables take the rest.
    @inline(__always)
    func shard(for user: Snowflake) -> ReadStateShard {
        let hash = ShardTable.mix(user.rawValue ^ seed)
        return shards[Int(hash.multipliedFullWidth(by: UInt64(shards.count)).high)]
    }

    /// Runs one table operation on a user's shard and hands any evictions to persistence
    /// before the lock is released.
    ///
    /// Under the lock, not after it: in between, another thread could miss on the
    /// evicted user, load it from persistence without the evicted states, and cache
    /// older data (the model-based concurrency test caught this as a lost mention).
    @inline(__always)
    func onShard<Result>(
        of user: Snowflake,
        _ body: (inout ShardTable, inout [Eviction]) throws(ReadStatesError) -> Result
    ) throws(ReadStatesError) -> Result {
        try shard(for: user).withTable(body) { eviction in
            persistence.evicted(user: eviction.user, dirtyStates: eviction.dirtyStates)
        }
    }
}
