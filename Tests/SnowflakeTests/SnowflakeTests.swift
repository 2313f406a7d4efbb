import Foundation
import Snowflake
import Testing

@Suite struct SnowflakeTests {
    @Test func aKnownIDHasKnownParts() {
        let id = Snowflake(rawValue: 175_928_847_299_117_063)
        #expect(id.unixMilliseconds == 1_462_015_105_796)
        #expect(id.timestamp == Date(timeIntervalSince1970: 1_462_015_105.796))
        #expect(id.worker == 1)
        #expect(id.process == 0)
        #expect(id.increment == 7)
    }

    @Test(arguments: [
        (Snowflake.discordEpochMilliseconds, UInt8(0), UInt8(0), UInt16(0)),
        (1_462_015_105_796, 1, 0, 7),
        (1_700_000_000_123, 31, 31, 4095),
        (Snowflake.discordEpochMilliseconds + (1 << 42) - 1, 17, 3, 1),
    ])
    func partsRoundTrip(milliseconds: UInt64, worker: UInt8, process: UInt8, increment: UInt16) {
        let id = Snowflake(timestampMilliseconds: milliseconds, worker: worker, process: process, increment: increment)
        #expect(id.unixMilliseconds == milliseconds)
        #expect(id.worker == worker)
        #expect(id.process == process)
        #expect(id.increment == increment)
        #expect(Snowflake(rawValue: id.rawValue) == id)
    }

    @Test func orderFollowsTime() {
        let early = Snowflake(timestampMilliseconds: 1_500_000_000_000, worker: 31, process: 31, increment: 4095)
        let late = Snowflake(timestampMilliseconds: 1_500_000_000_001, worker: 0, process: 0, increment: 0)
        #expect(early < late)
        #expect([late, early].sorted() == [early, late])
    }

    @Test func theSmallestIDOfAnInstantBoundsThatMillisecond() {
        let milliseconds: UInt64 = 1_600_000_000_000
        let smallest = Snowflake.smallest(atUnixMilliseconds: milliseconds)
        let sameMillisecond = Snowflake(timestampMilliseconds: milliseconds, worker: 0, process: 0, increment: 0)
        let previous = Snowflake(timestampMilliseconds: milliseconds - 1, worker: 31, process: 31, increment: 4095)
        #expect(smallest == sameMillisecond)
        #expect(previous < smallest)
        #expect(Snowflake.smallest(at: Date(timeIntervalSince1970: 1_600_000_000)) == smallest)
        #expect(Snowflake.smallest(atUnixMilliseconds: 0) == .zero)
    }
}
