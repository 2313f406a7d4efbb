import Foundation

/// Pinning threads to CPUs (Linux `sched_setaffinity`), so `bench cache` can keep its
/// workers' CPUs to themselves.
///
/// Why: on the project's 2-core VM a worker shared its CPU with the benchmark's own
/// other threads whenever the scheduler woke one of them there (the once-a-second
/// reporter, the write-behind flusher, SQLite's writes on it): each such wake-up
/// preempted the worker for up to ~1.5 ms, which an open-loop benchmark charges to
/// hundreds of operations. With the workers alone on their CPUs, the p99.9 of the
/// seconds in which the store was flushing went from ~1.3 ms to ~90 us (the same as
/// without a store). A server does the same by giving its serving threads cores of
/// their own.
enum ThreadAffinity {
    /// glibc's `sched_getaffinity`/`sched_setaffinity`, looked up at run time: Swift's
    /// Glibc module imports them only with `_GNU_SOURCE`, and a C target for two
    /// declarations would cost more than this.
    private typealias AffinityCall = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    private static let getAffinity = lookUp("sched_getaffinity")
    private static let setAffinity = lookUp("sched_setaffinity")

    private static func lookUp(_ name: String) -> AffinityCall? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: AffinityCall.self)
    }

    /// The CPUs this process may run on, in order.
    static func allowedCPUs() -> [Int] {
        var set = cpu_set_t()
        guard let getAffinity, getAffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { return [] }
        let bits = MemoryLayout<cpu_set_t>.size * 8
        return withUnsafeBytes(of: &set) { bytes in
            (0..<bits).filter { bytes[$0 / 8] & (1 << ($0 % 8)) != 0 }
        }
    }

    /// Pins one thread (0: the calling thread) to `cpus`.
    @discardableResult
    static func pin(thread: pid_t = 0, to cpus: [Int]) -> Bool {
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { bytes in
            for cpu in cpus where cpu / 8 < bytes.count { bytes[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        }
        guard let setAffinity else { return false }
        return setAffinity(thread, MemoryLayout<cpu_set_t>.size, &set) == 0
    }

    /// Pins every thread the process has now to `cpus`; threads started later inherit
    /// the mask of the thread that starts them.
    static func pinAllThreads(to cpus: [Int]) {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for task in tasks {
            if let id = pid_t(task) { pin(thread: id, to: cpus) }
        }
    }
}
