import Foundation

/// One large anonymous mapping shared by all shards for one kind of entry: the
/// ``BlockArena``'s blocks (handed out in chunks), or the index buckets (a range per
/// shard).
///
/// Why a mapping of our own rather than `allocate`: the kernel hands out zeroed pages
/// only when first touched (so capacity reserved but unused costs no RSS, and the
/// index needs no clearing), and `MADV_HUGEPAGE` lets it back the region with 2 MiB
/// pages. The cache is read at random over hundreds of MiB, where 4 KiB pages make
/// most lookups miss the TLB as well as the CPU cache. One region per kind, not per
/// shard, so a partly used huge page is wasted at most once per kind.
///
/// Freed only when the engine is (at shutdown): there is no large free while serving.
final class MemoryRegion: @unchecked Sendable {
    // @unchecked: the pointer never changes; shards write disjoint parts, each under
    // its own lock.
    let base: UnsafeMutableRawPointer
    let byteCount: Int

    /// - Parameter hugePages: ask for 2 MiB pages. Only for regions that fill evenly
    ///   (the arena fills from its start, the index buckets of every shard are all in
    ///   use): a huge page is resident as a whole, so a region whose shards each used
    ///   only the start of a range of their own would cost more RSS than it saves in
    ///   TLB misses.
    init(byteCount requested: Int, hugePages: Bool) {
        let hugePage = 2 << 20
        byteCount = max((requested + hugePage - 1) / hugePage * hugePage, hugePage)
        guard let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else {
            fatalError("cannot reserve \(byteCount) bytes for the read-state cache: \(String(cString: strerror(errno)))")
        }
        base = mapped
        // Advice only: where transparent huge pages are off, this fails and 4 KiB pages serve.
        if hugePages { _ = madvise(base, byteCount, MADV_HUGEPAGE) }
    }

    /// Binds `count` elements at element offset `offset` to `Element` and returns the
    /// first (each range is bound once, to one type, when the engine is built).
    func pointer<Element>(to type: Element.Type, offset: Int, count: Int) -> UnsafeMutablePointer<Element> {
        precondition((offset + count) * MemoryLayout<Element>.stride <= byteCount, "range beyond the region")
        return (base + offset * MemoryLayout<Element>.stride).bindMemory(to: type, capacity: count)
    }

    deinit {
        munmap(base, byteCount)
    }
}
