internal import CMalloc

/// glibc malloc settings for the long-running servers (`serve`, and `echo` so that the
/// two are compared on the same footing).
enum MallocTuning {
    /// Makes each malloc arena's heap writable in one step and keeps its top when
    /// memory is freed. Each service thread allocates from an arena of its own, whose
    /// heap glibc otherwise makes writable one page at a time (an `mprotect` call
    /// each) as it grows, and gives back as it shrinks: while resume histories filled
    /// up that was 4.6% of the gateway's CPU at 1,000 sessions and 3,000 events/s
    /// (`perf record --call-graph dwarf`, 2026-12-06). The pad has to cover a whole
    /// heap (64 MiB, glibc's maximum on 64-bit) for the growth calls to go: with
    /// 16 MiB they were still 3.2%. What it costs: memory freed after a peak stays with
    /// the process rather than going back to the system, up to 64 MiB per arena
    /// (glibc makes up to 8 arenas per core), and each arena's heap counts as committed
    /// under `vm.overcommit_memory=2`. RSS counts only the pages used.
    ///
    /// Setting it through `mallopt` also freezes glibc's mmap threshold at 128 KiB (it
    /// would otherwise rise after the first large free), so a READY of 1,000 read
    /// states (170 KB) would get a fresh mapping and its page faults every time: the
    /// threshold is set to 1 MiB with it.
    static func keepArenaTops() {
        _ = mallopt(M_TOP_PAD, 64 << 20)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
    }
}
