import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands out strictly increasing Snowflakes for one worker and process, from any thread.
///
/// One `Mutex` guards the last millisecond issued and the increment within it; the
/// critical section is a clock read and a few integer operations, so contention stays
/// cheap and no ID is ever issued twice.
///
/// How it treats the clock:
/// - **Clock current** (it reads the generator's last millisecond): up to 4,096 IDs in
///   that millisecond; past that it *waits for the real next millisecond* (yielding
///   outside the lock) rather than repeat an ID or run ahead of the wall clock.
/// - **Clock stepped back** (it reads less than the last millisecond issued, e.g. after
///   an NTP correction): the generator keeps its own logical millisecond and never goes
///   back. When that logical millisecond's 4,096 IDs are used up it advances it by one
///   instead of waiting, because waiting for the wall clock to pass it could last as long
///   as the step back. So it never stalls and never repeats; the cost is that, for the
///   duration of the step, ID timestamps run slightly ahead of the wall clock. Once the
///   real clock catches up, normal behaviour resumes.
public final class SnowflakeGenerator: Sendable {
    private struct State {
        var lastMilliseconds: UInt64 = 0
        var increment: UInt16 = 0
    }

    public let worker: UInt8
    public let process: UInt8
    private let clock: @Sendable () -> UInt64
    private let state = Mutex(State())

    /// - Parameters:
    ///   - worker: The machine's number, 0..<32.
    ///   - process: The process's number on that machine, 0..<32.
    ///   - clock: Unix milliseconds; injectable so tests can freeze it or step it back.
    public init(
        worker: UInt8,
        process: UInt8,
        clock: @escaping @Sendable () -> UInt64 = SnowflakeGenerator.systemMilliseconds
    ) {
        precondition(worker < 32, "worker is 5 bits: 0..<32")
        precondition(process < 32, "process is 5 bits: 0..<32")
        self.worker = worker
        self.process = process
        self.clock = clock
    }

    /// The next ID: greater than every ID this generator returned before, on any thread.
    /// See the type's documentation for what happens when the clock stalls or steps back.
    public func next() -> Snowflake {
        while true {
            let issued: Snowflake? = state.withLock { state in
                // The clock is read under the lock, so "behind" and "current" are judged
                // against the state as it is, not as it was before another thread ran.
                let now = max(clock(), Snowflake.discordEpochMilliseconds)
                if now > state.lastMilliseconds {
                    state.lastMilliseconds = now
                    state.increment = 0
                } else if state.increment < 4095 {
                    state.increment += 1
                } else if now < state.lastMilliseconds {
                    state.lastMilliseconds += 1  // clock behind: advance the logical ms
                    state.increment = 0
                } else {
                    return nil  // clock current and exhausted: wait for the real next ms
                }
                return Snowflake(
                    timestampMilliseconds: state.lastMilliseconds,
                    worker: worker,
                    process: process,
                    increment: state.increment
                )
            }
            if let issued { return issued }
            sched_yield()
        }
    }

    /// The wall clock in Unix milliseconds (`CLOCK_REALTIME`, a vDSO call on Linux).
    @Sendable
    public static func systemMilliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) &* 1000 &+ UInt64(time.tv_nsec) / 1_000_000
    }
}
