/// One shard's read states in flat, preallocated memory: no object per read state or
/// per user, nothing that grows or rehashes while serving.
///
/// Layout (bytes per read state at 8 read states per user: 24 + 2 + 3 + ~1.3):
/// - `slots`: one 24-byte ``StateSlot`` per read state; a user's states form a chain
///   through `StateSlot.link`, whose top bit is the state's dirty flag.
/// - `mentions`: the 16-bit mention counts beside the slots (kept apart so the slot
///   stays 24 bytes with no padding).
/// - `users`: one 24-byte ``UserRecord`` per cached user: the head of its chain, its
///   place in the LRU list and when it first became dirty.
/// - `index`: open addressing with linear probing from user ID to user record
///   (`UInt32`, 0 = empty), sized for `maximumUsers` at a load factor of at most 3/4.
///
/// Slots and user records are handed out first from a free list and then from a
/// high-water mark, so memory that was never used is never touched (it stays out of
/// the process's RSS).
///
/// ## Threading
/// Not thread-safe: ``ReadStateShard`` keeps it inside a `Mutex`, and nothing else
/// ever holds one. It is `@unchecked Sendable` because its raw pointers are owned by
/// it alone (it is `~Copyable`), so handing it across the lock's boundary is safe.
struct ShardTable: ~Copyable, @unchecked Sendable {
    /// "No slot" / "no user" in every `UInt32` link.
    static let none: UInt32 = .max
    /// Slot links keep the dirty flag in their top bit, the next slot in the rest.
    static let dirtyBit: UInt32 = 1 << 31
    static let slotMask: UInt32 = dirtyBit - 1
    /// `UserRecord.dirtySince` keeps seconds modulo this (16 bits, 0 meaning clean).
    static let tickModulus: UInt32 = 65_535

    let slots: UnsafeMutablePointer<StateSlot>
    let mentions: UnsafeMutablePointer<UInt16>
    let slotCapacity: Int
    var slotHighWater = 0
    var freeSlots: UInt32 = slotMask
    var usedSlots = 0

    let users: UnsafeMutablePointer<UserRecord>
    let userCapacity: Int
    var userHighWater = 0
    var freeUsers: UInt32 = none
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

    /// - Parameters: the shard's ranges of the engine's regions, which outlive it and
    ///   are zero-filled pages until first written (see ``MemoryRegion``).
    init(
        slots: UnsafeMutablePointer<StateSlot>,
        mentions: UnsafeMutablePointer<UInt16>,
        slotCapacity: Int,
        users: UnsafeMutablePointer<UserRecord>,
        userCapacity: Int,
        index: UnsafeMutablePointer<UInt32>,
        bucketCount: Int,
        seed: UInt64
    ) {
        precondition(slotCapacity > 0 && slotCapacity < Int(Self.slotMask), "slot capacity out of range")
        precondition(userCapacity > 0 && userCapacity < Int(Self.none), "user capacity out of range")
        precondition(bucketCount > userCapacity, "the index needs more buckets than users")
        self.slots = slots
        self.mentions = mentions
        self.slotCapacity = slotCapacity
        self.users = users
        self.userCapacity = userCapacity
        self.index = index
        self.bucketCount = bucketCount
        self.seed = seed
    }

    /// Buckets for a shard of `userCapacity` users: a load factor of at most 3/4.
    static func bucketCount(forUsers userCapacity: Int) -> Int {
        userCapacity + userCapacity / 3 + 1
    }
}

/// A read state as stored: 24 bytes, no padding.
struct StateSlot {
    var channel: UInt64
    var message: UInt64
    var version: UInt32
    /// Next slot of the same user (``ShardTable/slotMask`` = end) | dirty bit.
    var link: UInt32
}

/// A cached user: 24 bytes.
struct UserRecord {
    var user: UInt64
    /// First slot of the user's chain, or ``ShardTable/slotMask`` for a user with none.
    var head: UInt32
    var lruPrevious: UInt32
    /// Doubles as the free-list link while the record is unused.
    var lruNext: UInt32
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
