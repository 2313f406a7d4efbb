public import Foundation

/// A 64-bit, time-ordered ID in Discord's layout:
///
///     | 42 bits: ms since 2015-01-01T00:00:00Z | 5: worker | 5: process | 12: increment |
///
/// The timestamp sits in the high bits so that IDs sort by creation time: "has the user
/// read this message?" is one integer comparison of `last_message_id`, with no lookup.
public struct Snowflake: Sendable, Hashable, Comparable, RawRepresentable {
    public let rawValue: UInt64

    /// Unix milliseconds of 2015-01-01T00:00:00Z, the first instant of Discord's epoch.
    /// IDs count from here rather than from 1970 so that 42 bits last until 2154.
    public static let discordEpochMilliseconds: UInt64 = 1_420_070_400_000

    /// The smallest ID: "nothing read yet" compares below every real message.
    public static let zero = Snowflake(rawValue: 0)

    static let maxTimestampOffset: UInt64 = (1 << 42) - 1

    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Builds an ID from its parts. Out-of-range parts are programming errors (they would
    /// silently spill into a neighbouring field), so they trap.
    /// - Parameter timestampMilliseconds: Unix milliseconds, at or after the Discord epoch.
    public init(timestampMilliseconds: UInt64, worker: UInt8, process: UInt8, increment: UInt16) {
        precondition(timestampMilliseconds >= Self.discordEpochMilliseconds, "timestamp before the Discord epoch")
        precondition(
            timestampMilliseconds - Self.discordEpochMilliseconds <= Self.maxTimestampOffset,
            "timestamp beyond 42 bits"
        )
        precondition(worker < 32, "worker is 5 bits")
        precondition(process < 32, "process is 5 bits")
        precondition(increment < 4096, "increment is 12 bits")
        rawValue = (timestampMilliseconds - Self.discordEpochMilliseconds) << 22
            | UInt64(worker) << 17 | UInt64(process) << 12 | UInt64(increment)
    }

    /// Unix milliseconds at which the ID was made.
    public var unixMilliseconds: UInt64 { (rawValue >> 22) + Self.discordEpochMilliseconds }
    /// The instant the ID was made, to the millisecond.
    public var timestamp: Date { Date(timeIntervalSince1970: Double(unixMilliseconds) / 1000) }
    /// The worker (machine) that made the ID, 0..<32.
    public var worker: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 17) & 0x1F) }
    /// The process on that worker, 0..<32.
    public var process: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> 12) & 0x1F) }
    /// The sequence number within the millisecond, 0..<4096.
    public var increment: UInt16 { UInt16(truncatingIfNeeded: rawValue & 0xFFF) }

    /// The smallest ID of an instant (worker, process and increment zero). Every ID made
    /// at or after that millisecond compares greater or equal, every earlier one smaller,
    /// so "messages after time T" is `id >= smallest(T)` with no ID ever made at T.
    /// Instants before the epoch give ``zero``; instants past 42 bits give the last ms.
    public static func smallest(atUnixMilliseconds milliseconds: UInt64) -> Snowflake {
        guard milliseconds > discordEpochMilliseconds else { return .zero }
        return Snowflake(rawValue: min(milliseconds - discordEpochMilliseconds, maxTimestampOffset) << 22)
    }

    /// ``smallest(atUnixMilliseconds:)`` for a `Date`, rounded down to its millisecond.
    public static func smallest(at date: Date) -> Snowflake {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        // `!(x > 0)` also catches NaN, which no integer conversion accepts.
        guard milliseconds > 0 else { return .zero }
        guard milliseconds < 0x1p64 else { return smallest(atUnixMilliseconds: .max) }
        return smallest(atUnixMilliseconds: UInt64(milliseconds))
    }

    @inlinable
    public static func < (lhs: Snowflake, rhs: Snowflake) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
