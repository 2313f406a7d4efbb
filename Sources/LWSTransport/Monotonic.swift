import Foundation

/// Milliseconds on the monotonic clock, for heartbeat and rate-limit deadlines: what
/// the transport hands the core as `now`.
package enum Monotonic {
    package static func milliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
