import Foundation
import Testing
@testable import Snowflake

@Suite struct SnowflakeTests {
    /// The example from Discord's API reference.
    @Test func aKnownIDHasKnownParts() throws {
        let id = Snowflake(rawValue: 175_928_847_299_117_063)
        #expect(id.unixMilliseconds == 1_462_015_105_796)
        #expect(id.worker == 1)
        #expect(id.process == 0)
        #expect(id.increment == 7)
        #expect(id.timestamp == Date(timeIntervalSince1970: 1_462_015_105.796))

        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: id.timestamp)
        #expect([parts.year, parts.month, parts.day] == [2016, 4, 30])
        #expect([parts.hour, parts.minute, parts.second] == [11, 18, 25])
    }

    @Test(arguments: [
        (Snowflake.discordEpochMilliseconds, UInt8(0), UInt8(0), UInt16(0)),
        (1_462_015_105_796, 1, 0, 7),
        (1_700_000_000_123, 31, 0, 0),
        (1_700_000_000_123, 0, 31, 0),
        (1_700_000_000_123, 0, 0, 4095),
        (1_700_000_000_123, 31, 31, 4095),
        (Snowflake.discordEpochMilliseconds + (1 << 42) - 1, 17, 3, 1),
        (Snowflake.discordEpochMilliseconds + (1 << 42) - 1, 31, 31, 4095),
    ])
    func partsRoundTripThroughTheRawValue(milliseconds: UInt64, worker: UInt8, process: UInt8, increment: UInt16) {
        let id = Snowflake(timestampMilliseconds: milliseconds, worker: worker, process: process, increment: increment)
        let again = Snowflake(rawValue: id.rawValue)
        #expect(again == id)
        #expect(again.unixMilliseconds == milliseconds)
        #expect(again.worker == worker)
        #expect(again.process == process)
        #expect(again.increment == increment)
    }

    @Test func theLargestPartsFillAllSixtyFourBits() {
        let id = Snowflake(
            timestampMilliseconds: Snowflake.discordEpochMilliseconds + (1 << 42) - 1,
            worker: 31, process: 31, increment: 4095
        )
        #expect(id.rawValue == .max)
        #expect(Snowflake(rawValue: 0) == .zero)
        #expect(Snowflake.zero.unixMilliseconds == Snowflake.discordEpochMilliseconds)
    }

    @Test func orderFollowsTimeBeforeAnyOtherPart() {
        let early = Snowflake(timestampMilliseconds: 1_500_000_000_000, worker: 31, process: 31, increment: 4095)
        let late = Snowflake(timestampMilliseconds: 1_500_000_000_001, worker: 0, process: 0, increment: 0)
        let later = Snowflake(timestampMilliseconds: 1_500_000_000_001, worker: 0, process: 0, increment: 1)
        #expect(early < late)
        #expect(late < later)
        #expect(Snowflake.zero < early)
        #expect([later, early, late].sorted() == [early, late, later])
        #expect([later, early, late].max() == later)
    }

    @Test func theSmallestIDOfAnInstantSplitsItFromThePreviousMillisecond() {
        let milliseconds: UInt64 = 1_600_000_000_000
        let smallest = Snowflake.smallest(atUnixMilliseconds: milliseconds)
        #expect(smallest == Snowflake(timestampMilliseconds: milliseconds, worker: 0, process: 0, increment: 0))
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: 1_600_000_000)) == smallest)
        // A Date inside the millisecond rounds down to it.
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: 1_600_000_000.0004)) == smallest)

        // Everything a generator makes in that millisecond is at or above it; everything
        // from the millisecond before is below it.
        let previous = Self.idsOfOneMillisecond(milliseconds - 1)
        let current = Self.idsOfOneMillisecond(milliseconds)
        #expect(previous.allSatisfy { $0 < smallest })
        #expect(current.allSatisfy { $0 >= smallest })
        #expect(previous.count == 4096 && current.count == 4096)
    }

    @Test func instantsBeforeTheEpochGiveZero() {
        #expect(Snowflake.smallest(atUnixMilliseconds: 0) == .zero)
        #expect(Snowflake.smallest(atUnixMilliseconds: Snowflake.discordEpochMilliseconds) == .zero)
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: 0)) == .zero)
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: -1_000)) == .zero)
        #expect(Snowflake.smallest(at: .distantPast) == .zero)
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: .nan)) == .zero)
    }

    @Test func instantsPastTheLastMillisecondClampToIt() {
        let last = Snowflake.discordEpochMilliseconds + (1 << 42) - 1
        #expect(Snowflake.smallest(atUnixMilliseconds: .max).unixMilliseconds == last)
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: 1e300)).unixMilliseconds == last)
    }

    /// Every ID one generator can make in one millisecond, from a frozen clock.
    private static func idsOfOneMillisecond(_ milliseconds: UInt64) -> [Snowflake] {
        let generator = SnowflakeGenerator(worker: 31, process: 31) { milliseconds }
        return (0..<4096).map { _ in generator.next() }
    }
}
