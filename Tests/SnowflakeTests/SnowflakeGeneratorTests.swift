import Snowflake
import Synchronization
import Testing

/// A clock the test moves by hand.
final class SteppedClock: Sendable {
    let milliseconds: Atomic<UInt64>
    init(_ start: UInt64) { milliseconds = Atomic(start) }
    func set(_ value: UInt64) { milliseconds.store(value, ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { [self] in milliseconds.load(ordering: .relaxed) } }
}

@Suite struct SnowflakeGeneratorTests {
    static let base = Snowflake.discordEpochMilliseconds + 1_000_000

    @Test func eightTasksTogetherGetAMillionUniqueIncreasingIDs() async {
        let generator = SnowflakeGenerator(worker: 3, process: 4)
        let perTask = 125_000
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ids: [UInt64] = []
                    ids.reserveCapacity(perTask)
                    for _ in 0..<perTask { ids.append(generator.next().rawValue) }
                    return ids
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for ids in batches {
            #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        }
        let all = Set(batches.joined())
        #expect(all.count == 1_000_000)
        let sample = Snowflake(rawValue: batches[0][0])
        #expect(sample.worker == 3 && sample.process == 4)
    }

    @Test func aClockSteppingBackNeverMakesIDsGoBack() {
        let clock = SteppedClock(Self.base + 1000)
        let generator = SnowflakeGenerator(worker: 0, process: 0, clock: clock.read)
        var ids = [generator.next(), generator.next()]
        clock.set(Self.base + 500)
        ids.append(generator.next())
        clock.set(Self.base + 400)
        ids.append(generator.next())
        clock.set(Self.base + 1001)
        ids.append(generator.next())
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(ids[3].unixMilliseconds == Self.base + 1000)
        #expect(ids[4].unixMilliseconds == Self.base + 1001)
    }

    @Test func past4096InAMillisecondItWaitsForTheNext() async {
        let clock = SteppedClock(Self.base)
        let generator = SnowflakeGenerator(worker: 1, process: 1, clock: clock.read)
        let first = (0..<4096).map { _ in generator.next() }
        #expect(Set(first).count == 4096)
        #expect(first.allSatisfy { $0.unixMilliseconds == Self.base })
        // The 4,097th waits until the clock moves on.
        let waiting = Task.detached { generator.next() }
        await Task.yield()
        clock.set(Self.base + 1)
        let next = await waiting.value
        #expect(next.unixMilliseconds == Self.base + 1)
        #expect(next.increment == 0)
        #expect(first.last! < next)
    }

    @Test func exhaustingAMillisecondWhileTheClockIsBehindDoesNotHang() {
        let clock = SteppedClock(Self.base + 100)
        let generator = SnowflakeGenerator(worker: 0, process: 0, clock: clock.read)
        _ = generator.next()
        clock.set(Self.base)
        let ids = (0..<10_000).map { _ in generator.next() }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(ids.last!.unixMilliseconds > Self.base + 100)
    }
}
