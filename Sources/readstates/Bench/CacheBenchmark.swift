import Foundation
import Histogram
import ReadStatesModule
import Snowflake
import Synchronization

/// `readstates bench cache`: fills the real engine, then runs a paced (or flat-out)
/// mix of mentions, acks and reads on it, printing per-second latency figures.
///
/// Latency is measured from each operation's intended start (open loop): an operation
/// that waits behind a stall is charged the wait, so stalls cannot hide (no
/// coordinated omission). Flat out (`rate` 0) it is each operation's own duration
/// (from the end of the previous one, so drawing the next user and channel counts too).
struct CacheBenchmark {
    struct Options {
        var capacity = 8_000_000
        var users = 1_000_000
        var rate = 200_000
        var seconds = 60
        var mix = [60, 35, 5]
        var threads = 1
        var shards = 64
        var json = false
        /// Scheduling priority (nice) of the worker threads, when set.
        var workerNice: Int32?
        /// Workers on CPUs of their own, the process's other threads on the rest (see
        /// ``ThreadAffinity``), when there are more CPUs than workers.
        var pin = true
    }

    let options: Options
    let output: BenchOutput
    /// With a real store: the flusher runs beside the mix, as in `serve`.
    let writeBehind: WriteBehind?

    func run() async throws {
        let workerCPUs = pinThreads()
        let workload = CacheWorkload(capacity: options.capacity, users: options.users, mix: options.mix)
        let residentBefore = BenchClock.residentBytes()
        let engine = ReadStates(
            configuration: ReadStatesConfiguration(capacity: options.capacity, shards: options.shards),
            persistence: writeBehind ?? DiscardingPersistence()
        )

        let fillStart = BenchClock.nanoseconds()
        for user in 0..<workload.users {
            try engine.insertLoaded(user: workload.userID(user), states: workload.storedStates(of: user))
        }
        let fillSeconds = Double(BenchClock.nanoseconds() - fillStart) / 1e9
        let filled = engine.statistics
        let residentFilled = BenchClock.residentBytes()
        output.fill(
            readStates: filled.readStates,
            users: filled.users,
            seconds: fillSeconds,
            residentBytes: residentFilled,
            bytesPerReadState: Double(residentFilled - residentBefore) / Double(max(filled.readStates, 1))
        )

        let flusher = writeBehind.map { writeBehind in
            Task.detached { try await writeBehind.run(engine: engine) }
        }
        // The report loop sleeps and blocks: it gets a thread of its own, not one of
        // the task pool's few.
        let summary = await withCheckedContinuation { continuation in
            let reporter = Thread {
                continuation.resume(returning: mix(engine: engine, workload: workload, workerCPUs: workerCPUs))
            }
            reporter.name = "bench-report"
            reporter.start()
        }
        output.summary(summary, residentBytes: BenchClock.residentBytes(), statistics: engine.statistics)
        if let writeBehind, let flusher {
            let before = writeBehind.statistics
            let finalStart = BenchClock.nanoseconds()
            flusher.cancel()
            try await flusher.value
            output.flusher(
                during: before,
                after: writeBehind.statistics,
                finalFlushSeconds: Double(BenchClock.nanoseconds() - finalStart) / 1e9,
                seconds: options.seconds
            )
        }
    }

    /// Moves every thread the process has (and so every thread started later: the
    /// reporter, the flusher, the task pool's) off the CPUs the workers will use.
    /// - Returns: the CPU for each worker, or nil when not pinning.
    private func pinThreads() -> [Int]? {
        let cpus = ThreadAffinity.allowedCPUs()
        guard options.pin, cpus.count > options.threads else {
            output.note("threads not pinned (\(cpus.count) CPUs for \(options.threads) workers\(options.pin ? "" : ", --no-pin"))")
            return nil
        }
        let workers = Array(cpus.prefix(options.threads))
        let others = Array(cpus.dropFirst(options.threads))
        ThreadAffinity.pinAllThreads(to: others)
        output.note("pinned: workers on CPU \(workers.map(String.init).joined(separator: ",")), other threads on CPU \(others.map(String.init).joined(separator: ","))")
        return workers
    }

    /// Runs the worker threads and reports each second until they finish.
    private func mix(engine: ReadStates, workload: CacheWorkload, workerCPUs: [Int]?) -> BenchSummary {
        let collector = SecondCollector(workers: options.threads)
        let start = BenchClock.nanoseconds() + 10_000_000
        let done = FinishedThreads()
        for thread in 0..<options.threads {
            let worker = Worker(
                engine: engine,
                workload: workload,
                collector: collector,
                thread: thread,
                threads: options.threads,
                start: start,
                seconds: options.seconds,
                ratePerThread: Double(options.rate) / Double(options.threads)
            )
            let nice = options.workerNice
            let cpu = workerCPUs?[thread]
            let runner = Thread {
                if let cpu, !ThreadAffinity.pin(to: [cpu]) {
                    FileHandle.standardError.write(Data("bench: cannot pin a worker to CPU \(cpu)\n".utf8))
                }
                // (Linux: `who` 0 is the calling thread.) A lower nice than the flusher's threads lets the scheduler preempt
                // them for the worker at once: the control that tells CPU contention
                // on this 2-core machine from the engine's own stalls.
                if let nice, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) != 0 {
                    FileHandle.standardError.write(Data("bench: cannot set nice \(nice) (errno \(errno))\n".utf8))
                }
                worker.run()
                done.count.add(1, ordering: .releasing)
            }
            runner.name = "bench-\(thread)"
            runner.start()
        }
        return report(collector: collector, done: done)
    }

    /// Prints each second as it completes. Between seconds it sleeps 1 ms at a time and
    /// records how late it wakes: this thread does no engine work, so a late wake-up
    /// is the machine (a VM pause, another process), not the engine.
    private func report(collector: SecondCollector, done: FinishedThreads) -> BenchSummary {
        var summary = BenchSummary()
        var oversleepByWallSecond: [Int: UInt64] = [:]
        var stealAtStart = BenchClock.stolenMilliseconds()
        let reportStart = BenchClock.nanoseconds()
        while true {
            let before = BenchClock.nanoseconds()
            usleep(1000)
            let late = BenchClock.nanoseconds() - before
            let wallSecond = Int((before &- reportStart) / 1_000_000_000)
            oversleepByWallSecond[wallSecond] = max(oversleepByWallSecond[wallSecond] ?? 0, late &- min(late, 1_000_000))
            let finished = done.count.load(ordering: .acquiring) == options.threads
            for (second, figures) in collector.takeComplete() {
                let steal = BenchClock.stolenMilliseconds()
                let line = SecondLine(
                    second: second + 1,
                    operations: figures.operations,
                    histogram: figures.histogram,
                    machineStallNanoseconds: oversleepByWallSecond[second] ?? 0,
                    stolenMilliseconds: steal - stealAtStart
                )
                stealAtStart = steal
                summary.add(line, histogram: figures.histogram)
                output.second(line)
            }
            if finished { break }
        }
        return summary
    }
}

/// How many worker threads have finished (a class: an `Atomic` cannot be captured).
private final class FinishedThreads: Sendable {
    let count = Atomic<Int>(0)
}

/// One thread's loop.
private struct Worker: @unchecked Sendable {
    // @unchecked: every field is immutable and itself thread-safe (the engine and the
    // collector are Sendable classes); Thread's closure just cannot see that.
    let engine: ReadStates
    let workload: CacheWorkload
    let collector: SecondCollector
    let thread: Int
    let threads: Int
    let start: UInt64
    let seconds: Int
    let ratePerThread: Double

    func run() {
        var random = FastRandom(seed: 0x9E37_79B9_7F4A_7C15 &* UInt64(thread + 1))
        var histogram = Histogram<UInt64>(highestTrackableValue: 100_000_000_000)
        var operations = 0
        var second = 0
        let end = start + UInt64(seconds) * 1_000_000_000
        let interval = ratePerThread > 0 ? 1e9 / ratePerThread : 0
        var sequence: UInt64 = 0
        // Message IDs grow like real ones: now's timestamp, this thread as the worker.
        let messageBase = SnowflakeGenerator(worker: UInt8(thread & 31), process: 0).next().rawValue

        while BenchClock.nanoseconds() < start {}
        // Flat out, an operation starts when the previous one finished: one clock read
        // per operation instead of two (a read costs ~25 ns, 4% of an operation).
        var finished = BenchClock.nanoseconds()
        while true {
            var intended = interval > 0 ? start + UInt64(Double(sequence) * interval) : finished
            if intended >= end { break }
            if interval > 0 {
                var now = BenchClock.nanoseconds()
                while now < intended { now = BenchClock.nanoseconds() }
            }
            let opSecond = Int((intended - start) / 1_000_000_000)
            if opSecond != second {
                collector.submit(second: second, histogram: histogram, operations: operations)
                histogram.reset()
                operations = 0
                second = opSecond
                // Flat out, the bookkeeping above is not the next operation's time.
                if interval == 0 { intended = BenchClock.nanoseconds() }
            }
            sequence += 1
            perform(&random, message: Snowflake(rawValue: messageBase &+ (sequence << 12)))
            finished = BenchClock.nanoseconds()
            _ = histogram.record(finished &- intended)
            operations += 1
            if interval == 0 && finished >= end { break }
        }
        collector.submit(second: second, histogram: histogram, operations: operations)
    }

    @inline(__always)
    private func perform(_ random: inout FastRandom, message: Snowflake) {
        let user = workload.drawUser(&random)
        let userID = workload.userID(user)
        let channel = workload.channelID(user: user, random.next(below: workload.channelsPerUser))
        let operation = workload.drawOperation(&random)
        // A miss loads the user (simulated: states are made, no I/O) and tries again,
        // which is what the async forms of the API do around a real store.
        for _ in 0..<2 {
            let hit: Bool
            switch operation {
            case .mention:
                hit = (try? engine.mentionIfCached(user: userID, channel: channel, messageID: message)) != nil
            case .ack:
                hit = (try? engine.ackIfCached(user: userID, channel: channel, messageID: message)) != nil
            case .get:
                hit = engine.readStatesIfCached(of: userID) != nil
            }
            if hit { return }
            try? engine.insertLoaded(user: userID, states: workload.storedStates(of: user))
        }
    }
}
