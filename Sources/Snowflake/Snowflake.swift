public import Foundation

/// A 64-bit, time-ordered ID in Discord's layout:
///
///     | 42 bits: ms since 2015-01-01T00:00:00Z | 5: worker | 5: process | 12: increment |
///
/// IDs sort by creation time, so `last_message_id` comparisons are integer comparisons.
public struct Snowflake: Sendable, Hashable, Comparable, RawRepresentable {
    public let rawValue: UInt64

    /// Unix milliseconds of 2015-01-01T00:00:00Z, the first instant of Discord's epoch.
    public static let discordEpochMilliseconds: UInt64 = 1_420_070_400_000
    public static let zero = Snowflake(rawValue: 0)

    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Builds an ID from its parts.
    /// - Parameter timestampMilliseconds: Unix milliseconds, at or after the Discord epoch.
    public init(timestampMilliseconds: UInt64, worker: UInt8, process: UInt8, increment: UInt16) {
        precondition(timestampMilliseconds >= Self.discordEpochMilliseconds, "timestamp before the Discord epoch")
        precondition(timestampMilliseconds - Self.discordEpochMilliseconds < 1 << 42, "timestamp beyond 42 bits")
        precondition(worker < 32 && process < 32, "worker and process are 5 bits each")
        precondition(increment < 4096, "increment is 12 bits")
        rawValue = (timestampMilliseconds - Self.discordEpochMilliseconds) << 22
            | UInt64(worker) << 17 | UInt64(process) << 12 | UInt64(increment)
    }

    /// Unix milliseconds at which the ID was made.
    public var unixMilliseconds: UInt64 { (rawValue >> 22) + Self.discordEpochMilliseconds }
    public var timestamp: Date { Date(timeIntervalSince1970: Double(unixMilliseconds) / 1000) }
    public var worker: UInt8 { UInt8((rawValue >> 17) & 0x1F) }
    public var process: UInt8 { UInt8((rawValue >> 12) & 0x1F) }
    public var increment: UInt16 { UInt16(rawValue & 0xFFF) }

    /// The smallest ID of an instant (all other parts zero): every ID made at or after
    /// it compares greater or equal, so "messages after time T" is `id >= smallest(T)`.
    /// Instants before the epoch give ``zero``.
    public static func smallest(atUnixMilliseconds milliseconds: UInt64) -> Snowflake {
        guard milliseconds > discordEpochMilliseconds else { return .zero }
        return Snowflake(rawValue: min(milliseconds - discordEpochMilliseconds, (1 << 42) - 1) << 22)
    }

    public static func smallest(at date: Date) -> Snowflake {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        return smallest(atUnixMilliseconds: milliseconds <= 0 ? 0 : UInt64(milliseconds))
    }

    @inlinable
    public static func < (lhs: Snowflake, rhs: Snowflake) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
