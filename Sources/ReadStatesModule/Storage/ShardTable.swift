/// One shard's users and read states in flat, preallocated memory: no object per
/// read state or per user, nothing that grows or rehashes while serving.
///
/// Layout (bytes per read state at 8 read states per user: 224 / 8 + ~1.3):
/// - blocks of the engine's ``BlockArena``: a user's first block holds its 32-byte
///   ``UserRecord`` (state count, version counter, place in the LRU list, when it
///   became dirty, the link to its next block) and its first ``blockSize`` read states
///   as 24-byte ``StateSlot``s; a user with more states links more blocks, which use
///   only the header's link. A user's states fill its blocks in order, so an operation
///   on a user of up to 8 states reads one block: four adjacent cache lines whose
///   addresses the CPU knows at once and fetches in parallel.
/// - `index`: open addressing with linear probing from user ID to the user's first
///   block (`UInt32`, 0 = empty, else block + 1), sized for `maximumUsers` at a load
///   factor of at most 3/4.
///
/// A user is named by its first block's number everywhere (the index, the LRU links).
/// Blocks come first from the shard's free list, then from the chunk of the arena it
/// is filling, so memory never used is never touched (it stays out of the process's
/// RSS). A user's last block may be partly empty: at most `blockSize - 1` unused slots
/// per user, which the block reserve allows for, so the capacity in read states is
/// exact and only RSS pays for users with few states: a block per user at least, so
/// at worst (users of 1 state, or of 9) a block holds 1 state in 8 or 9 in 16 (up to
/// 224 bytes per read state instead of 28).
///
/// ## Threading
/// Not thread-safe: ``ReadStateShard`` keeps it inside a `Mutex`, and nothing else
/// ever holds one. It is `@unchecked Sendable` because the memory its raw pointers
/// reach is its own: its index range, and the arena's blocks it took (the arena hands
/// each block to one shard), and it is `~Copyable`, so handing it across the lock's
/// boundary is safe.
struct ShardTable: ~Copyable, @unchecked Sendable {
    /// "No block" / "no user" in every `UInt32` link.
    static let none: UInt32 = .max
    /// Read states per block: 8 x 24 bytes after a 32-byte header.
    static let blockShift = 3
    static let blockSize = 1 << blockShift
    /// `UserRecord.dirtySince` keeps seconds modulo this (16 bits, 0 meaning clean).
    static let tickModulus: UInt32 = 65_535

    /// Where the blocks live (shared by all shards; block numbers are the arena's).
    let arena: BlockArena
    /// Block headers (user records) and slots, indexed by block and slot number.
    let users: BlockHeaders
    let slots: BlockSlots
    /// Blocks the shard may take from the arena, and has taken.
    let blockCapacity: Int
    var blocksTaken = 0
    /// The first block of each chunk taken, so a scan can visit the shard's blocks
    /// (reserved up front: it never grows while serving).
    var chunks: [Int]
    /// The rest of the chunk the shard is filling: `nextBlock..<chunkEnd`.
    var nextBlock = 0
    var chunkEnd = 0
    var freeBlocks: UInt32 = none
    /// Read states the shard may hold, and holds.
    let stateCapacity: Int
    var usedStates = 0
    /// Users the shard may hold, and holds.
    let userCapacity: Int
    var userCount = 0

    let index: UnsafeMutablePointer<UInt32>
    let bucketCount: Int
    /// Random per process, so hostile IDs cannot aim at one probe chain.
    let seed: UInt64

    /// Most recently used user, and least recently used (evicted first).
    var lruHead: UInt32 = none
    var lruTail: UInt32 = none
    /// Moves to the LRU head are counted in epochs of a quarter of the cached users; a
    /// user already moved in the current epoch is in the most recent quarter and is not
    /// moved again (segmented LRU: the order within the hot quarter is not kept, the
    /// eviction end is exact). This spares the cache misses of two neighbours and the
    /// old head on most operations of hot users.
    var epoch: UInt16 = 1
    var movesInEpoch = 0

    var statistics = ShardStatistics()

    /// - Parameters: the shard's range of the engine's index region, which outlives it
    ///   and is zero-filled pages until first written (see ``MemoryRegion``), and the
    ///   shared block arena it may take `blockCapacity` blocks from.
    init(
        arena: BlockArena,
        blockCapacity: Int,
        stateCapacity: Int,
        userCapacity: Int,
        index: UnsafeMutablePointer<UInt32>,
        bucketCount: Int,
        seed: UInt64
    ) {
        precondition(stateCapacity > 0 && userCapacity > 0, "capacities must be positive")
        precondition(blockCapacity >= Self.blocks(forStates: stateCapacity, users: userCapacity), "too few blocks")
        precondition(userCapacity < Int(Self.none), "user capacity out of range")
        precondition(bucketCount > userCapacity, "the index needs more buckets than users")
        self.arena = arena
        self.users = BlockHeaders(base: arena.base)
        self.slots = BlockSlots(base: arena.base)
        self.blockCapacity = blockCapacity
        self.chunks = []
        self.chunks.reserveCapacity((blockCapacity + BlockArena.chunkBlocks - 1) / BlockArena.chunkBlocks)
        self.stateCapacity = stateCapacity
        self.userCapacity = userCapacity
        self.index = index
        self.bucketCount = bucketCount
        self.seed = seed
    }

    /// Buckets for a shard of `userCapacity` users: a load factor of at most 3/4.
    static func bucketCount(forUsers userCapacity: Int) -> Int {
        userCapacity + userCapacity / 3 + 1
    }

    /// Blocks that hold `states` read states of up to `users` users whatever their
    /// distribution: full blocks for the states, plus one partly used (or, for a user
    /// with no states, empty) first block per user.
    static func blocks(forStates states: Int, users: Int) -> Int {
        (states + blockSize - 1) / blockSize + users
    }
}

/// A read state as stored: 24 bytes, no padding.
struct StateSlot {
    var channel: UInt64
    var message: UInt64
    var version: UInt32
    var mentionCount: UInt16
    /// ``StateSlot/dirty`` while persistence has not seen the state's latest change.
    var flags: UInt16

    static let dirty: UInt16 = 1
}

/// A cached user, in the header of its first block: 32 bytes. Later blocks of the
/// user, and free blocks, use only `next` (the rest is zero).
struct UserRecord {
    var user: UInt64
    /// The user's next block, or the next free block (``ShardTable/none`` = end).
    var next: UInt32
    var stateCount: UInt32
    var lruPrevious: UInt32
    var lruNext: UInt32
    /// The highest version among the user's states: a change gets this + 1, so a
    /// user's versions only grow (kept here so no operation walks all states for it).
    var version: UInt32
    /// 0 while all the user's states are clean; otherwise 1 + the tick (seconds, modulo
    /// 65,535) of the first change not yet handed to persistence. 16 bits are enough:
    /// the flusher looks at every dirty user far more often than every 18 hours.
    var dirtySince: UInt16
    /// The shard's LRU epoch when the user was last moved to the head (see `touch`).
    var epoch: UInt16
}

/// Counters a shard keeps under its lock; summed on demand for metrics.
public struct ShardStatistics: Sendable, Equatable {
    public var hits = 0
    public var misses = 0
    public var loads = 0
    public var evictedUsers = 0
    public var evictedStates = 0
    public var evictedDirtyStates = 0
    public var readStates = 0
    public var users = 0
    public var dirtyStates = 0

    public init() {}

    mutating func add(_ other: ShardStatistics) {
        hits += other.hits
        misses += other.misses
        loads += other.loads
        evictedUsers += other.evictedUsers
        evictedStates += other.evictedStates
        evictedDirtyStates += other.evictedDirtyStates
        readStates += other.readStates
        users += other.users
        dirtyStates += other.dirtyStates
    }
}
