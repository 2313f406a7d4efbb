import Foundation

/// A task executor on one thread of its own, run at a lower CPU priority (a higher
/// nice value) than the rest of the process: the write-behind flusher's store writes
/// run on it, and so does the store's own work when it writes synchronously on the
/// calling thread (SQLite does). Only the writes: the flusher's other steps take
/// locks that serving threads wait for, and a thread at nice 10 preempted while
/// holding one would make them wait for as long as it stays off the CPU.
///
/// Why: on the project's 2-core VM the flusher (scanning shards, copying batches) and
/// SQLite's writer (B-tree updates, WAL writes) took CPU from the threads serving
/// operations, and every time the scheduler woke one of them in front of a busy
/// serving thread, operations queued behind it: p99 at 200,000 operations per second
/// went from ~50 us without a store to ~1.2 ms with SQLite. At nice 10 the scheduler
/// gives a serving thread (nice 0) the CPU at once and ~10x the flusher's share when
/// both want it, so the flusher uses idle time first and still progresses under full
/// load. Linux applies nice per thread, which is why the flusher needs a thread of its
/// own (an unprivileged process cannot lower a nice value again, so a shared pool
/// thread could not be lent and given back).
public final class LowPriorityExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `stopped` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    /// - Parameters:
    ///   - name: the thread's name (seen in `top -H`, `perf`).
    ///   - nice: the thread's nice value (0 keeps the process's priority).
    public init(name: String, nice: Int32) {
        // The thread keeps the executor alive (its closure holds it) until it ends.
        let thread = Thread { [self] in run(nice: nice) }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        condition.lock()
        if stopped {
            condition.unlock()
            // Past `stop()`: nothing may be lost, the shared pool runs it instead.
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(UnownedJob(job))
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish what is queued and end. Jobs enqueued later run on the
    /// shared pool instead.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run(nice: Int32) {
        #if os(Linux)
        // Linux: `who` 0 with PRIO_PROCESS names the calling thread only (elsewhere it
        // names the whole process, so the thread keeps the process's priority there).
        if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
        #endif
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                break
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
