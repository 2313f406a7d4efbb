import Foundation

/// The engine's notion of time, in whole seconds: when a state first became dirty, and
/// what the write-behind flusher compares against its delay. Injected so tests can
/// move time without sleeping.
public struct ReadStatesClock: Sendable {
    public let seconds: @Sendable () -> UInt32

    public init(seconds: @escaping @Sendable () -> UInt32) {
        self.seconds = seconds
    }

    /// Seconds since this clock was made, from the monotonic clock (not the wall clock,
    /// which may step).
    public static func monotonic() -> ReadStatesClock {
        let start = ContinuousClock.now
        return ReadStatesClock {
            UInt32(clamping: (ContinuousClock.now - start).components.seconds)
        }
    }
}
