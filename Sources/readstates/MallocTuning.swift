internal import CMalloc

/// glibc malloc settings for the long-running servers (`serve`, and `echo` so that the
/// two are compared on the same footing).
enum MallocTuning {
    /// Keeps up to 64 MiB of free memory at the top of each malloc arena instead of
    /// handing it back to the kernel and asking for it again page by page. Each
    /// service thread allocates from an arena of its own, which glibc grows one
    /// `mprotect` call at a time: while resume histories filled up, that was 4.6% of
    /// the gateway's CPU at 1,000 sessions and 3,000 events/s (`perf record
    /// --call-graph dwarf`, 2026-12-06; gone with this setting). What it costs: memory
    /// freed after a peak stays with the process (up to 64 MiB per arena) rather than
    /// going back to the system.
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
