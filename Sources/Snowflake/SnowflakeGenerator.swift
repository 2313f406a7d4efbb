import Foundation
import Synchronization

/// Hands out strictly increasing Snowflakes for one worker and process, from any thread.
///
/// - Up to 4,096 IDs per millisecond; past that it waits for the clock's next
///   millisecond rather than repeat an ID.
/// - When the wall clock steps back, it keeps using the last millisecond it issued
///   (a logical clock) until the real one catches up. If that logical millisecond is
///   exhausted while the clock is still behind, it moves to the next logical
///   millisecond instead of waiting: waiting could last as long as the step back.
public final class SnowflakeGenerator: Sendable {
    private struct State {
        var lastMilliseconds: UInt64 = 0
        var increment: UInt16 = 0
    }

    private enum Step {
        case issued(Snowflake)
        case waitForNextMillisecond
    }

    public let worker: UInt8
    public let process: UInt8
    private let clock: @Sendable () -> UInt64
    private let state = Mutex(State())

    /// - Parameter clock: Unix milliseconds; injectable for tests.
    public init(
        worker: UInt8,
        process: UInt8,
        clock: @escaping @Sendable () -> UInt64 = SnowflakeGenerator.systemMilliseconds
    ) {
        precondition(worker < 32 && process < 32, "worker and process are 5 bits each")
        self.worker = worker
        self.process = process
        self.clock = clock
    }

    public func next() -> Snowflake {
        while true {
            let now = max(clock(), Snowflake.discordEpochMilliseconds)
            let step: Step = state.withLock { state in
                if now > state.lastMilliseconds {
                    state.lastMilliseconds = now
                    state.increment = 0
                } else if state.increment < 4095 {
                    state.increment += 1
                } else if now < state.lastMilliseconds {
                    // Clock behind us and this logical millisecond used up: move on.
                    state.lastMilliseconds += 1
                    state.increment = 0
                } else {
                    return .waitForNextMillisecond
                }
                return .issued(
                    Snowflake(
                        timestampMilliseconds: state.lastMilliseconds,
                        worker: worker,
                        process: process,
                        increment: state.increment
                    )
                )
            }
            switch step {
            case .issued(let id): return id
            case .waitForNextMillisecond: sched_yield()
            }
        }
    }

    /// The wall clock in Unix milliseconds.
    @Sendable
    public static func systemMilliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
