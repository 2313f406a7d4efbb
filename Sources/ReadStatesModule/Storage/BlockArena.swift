import Synchronization

/// The blocks of every shard's users and read states: one region, handed to the
/// shards in chunks as they grow.
///
/// A block is a ``UserRecord`` header (32 bytes) and ``ShardTable/blockSize`` slots of
/// 24 bytes: 224 bytes. A user's first block carries its record, so finding a user
/// in the index leads straight to its record and its first states, in adjacent cache
/// lines the CPU fetches in parallel. (With the records in an array of their own, an
/// operation waited for the index, then the record, then the states: three dependent
/// DRAM misses, 1.26-1.38M operations per second flat out at 8M states on the
/// project's VM; with single slots chained one by one and the mention counts apart,
/// four, about 1M.) Later blocks of a user with more states use only the header's link.
///
/// Why shared and chunked rather than a fixed range per shard: a shard must be able to
/// hold one partly used block per user on top of its states (`ShardTable.blocks`), so
/// its share is about three times what users of 8 states touch. With transparent huge
/// pages (fewer TLB misses on the random reads of a large cache: 1.34M against 1.14M
/// operations per second in the same test), a huge page is resident as soon as one
/// byte of it is touched, and 64 shards each touching the start of their own 9 MiB
/// range cost 48 bytes of RSS per read state instead of 31. Chunks taken in turn from
/// one region fill it from the start, so only the chunk each shard is filling is
/// partly used.
final class BlockArena: @unchecked Sendable {
    // @unchecked: the base never changes; each block belongs to one shard at a time
    // (taken under that shard's lock), and the chunk counter is atomic.
    /// Blocks per chunk: 256 x 224 bytes = 56 KiB, so the partly used chunks of 64
    /// shards cost at most 3.5 MiB; a shard takes one every 256 blocks, under its lock.
    static let chunkBlocks = 256
    static let headerBytes = MemoryLayout<UserRecord>.stride
    static let blockBytes = headerBytes + ShardTable.blockSize * MemoryLayout<StateSlot>.stride

    let base: UnsafeMutableRawPointer
    let chunkCount: Int
    private let nextChunk = Atomic<Int>(0)
    private let region: MemoryRegion

    /// - Parameter blocksPerShard: the most blocks one shard may take.
    init(shards: Int, blocksPerShard: Int) {
        chunkCount = shards * ((blocksPerShard + Self.chunkBlocks - 1) / Self.chunkBlocks)
        precondition(chunkCount * Self.chunkBlocks < Int(UInt32.max), "too many blocks for 32-bit block numbers")
        region = MemoryRegion(byteCount: chunkCount * Self.chunkBlocks * Self.blockBytes, hugePages: true)
        base = region.base
    }

    /// The first block of a chunk no shard has had yet, its memory bound to headers and
    /// slots. Each shard takes at most its share, so the arena (sized for every
    /// shard's share) never runs out.
    func takeChunk() -> Int {
        let chunk = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
        precondition(chunk < chunkCount, "block arena exhausted")
        let first = chunk * Self.chunkBlocks
        for block in first..<first + Self.chunkBlocks {
            let start = base + block * Self.blockBytes
            start.bindMemory(to: UserRecord.self, capacity: 1)
            (start + Self.headerBytes).bindMemory(to: StateSlot.self, capacity: ShardTable.blockSize)
        }
        return first
    }
}

/// The block headers of an arena as an array indexed by block number.
struct BlockHeaders {
    let base: UnsafeMutableRawPointer

    @inline(__always)
    subscript(block: Int) -> UserRecord {
        unsafeAddress {
            UnsafePointer((base + block &* BlockArena.blockBytes).assumingMemoryBound(to: UserRecord.self))
        }
        nonmutating unsafeMutableAddress {
            (base + block &* BlockArena.blockBytes).assumingMemoryBound(to: UserRecord.self)
        }
    }
}

/// The slots of an arena as an array: slot `block * blockSize + i` is the `i`th of `block`.
struct BlockSlots {
    let base: UnsafeMutableRawPointer

    @inline(__always)
    func address(_ slot: Int) -> UnsafeMutablePointer<StateSlot> {
        let block = slot &>> ShardTable.blockShift
        let inBlock = slot & (ShardTable.blockSize - 1)
        let offset = block &* BlockArena.blockBytes &+ BlockArena.headerBytes &+ inBlock &* MemoryLayout<StateSlot>.stride
        return (base + offset).assumingMemoryBound(to: StateSlot.self)
    }

    @inline(__always)
    subscript(slot: Int) -> StateSlot {
        unsafeAddress { UnsafePointer(address(slot)) }
        nonmutating unsafeMutableAddress { address(slot) }
    }
}
