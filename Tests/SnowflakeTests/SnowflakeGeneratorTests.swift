import Foundation
import Synchronization
import Testing
@testable import Snowflake

/// A clock the test moves by hand. Counts its reads, so a test can tell a generator
/// that waited for the clock from one that ran ahead of it.
final class ScriptedClock: Sendable {
    private struct State {
        var milliseconds: UInt64
        var reads = 0
        /// After this many more reads the clock moves on by one millisecond.
        var advanceAfterReads: Int?
    }

    private let state: Mutex<State>

    init(_ milliseconds: UInt64) {
        state = Mutex(State(milliseconds: milliseconds))
    }

    func set(_ milliseconds: UInt64) {
        state.withLock { $0.milliseconds = milliseconds }
    }

    func advance(afterReads count: Int) {
        state.withLock { $0.advanceAfterReads = count }
    }

    var reads: Int { state.withLock { $0.reads } }

    var read: @Sendable () -> UInt64 {
        { [self] in
            state.withLock { state in
                state.reads += 1
                if let remaining = state.advanceAfterReads {
                    if remaining == 0 {
                        state.milliseconds += 1
                        state.advanceAfterReads = nil
                    } else {
                        state.advanceAfterReads = remaining - 1
                    }
                }
                return state.milliseconds
            }
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct SnowflakeGeneratorTests {
    /// Clock values are offsets from the Discord epoch: the generator clamps anything
    /// earlier to the epoch itself.
    static let epoch = Snowflake.discordEpochMilliseconds

    @Test func eightTasksTogetherGetAMillionUniqueIncreasingIDs() async {
        let generator = SnowflakeGenerator(worker: 3, process: 4)
        let perTask = 125_000
        // Which task took the last ID, and how often that changed: 8 tasks run one
        // after another switch 7 times; more shows that they really overlapped.
        let overlap = Overlap()
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ids: [UInt64] = []
                    ids.reserveCapacity(perTask)
                    for index in 0..<perTask {
                        ids.append(generator.next().rawValue)
                        overlap.record(task)
                        // The pool rotates its tasks even when another test holds one
                        // of its two threads.
                        if index % 5_000 == 0 { await Task.yield() }
                    }
                    return ids
                }
            }
            return await group.reduce(into: [[UInt64]]()) { $0.append($1) }
        }
        #expect(batches.count == 8)
        for ids in batches {
            #expect(ids.count == perTask)
            #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        }
        #expect(Set(batches.joined()).count == 1_000_000)
        #expect(overlap.switches.load(ordering: .relaxed) > 8, "the tasks never overlapped")
        let sample = Snowflake(rawValue: batches[0][0])
        #expect(sample.worker == 3)
        #expect(sample.process == 4)
    }

    @Test func aClockSteppingBackNeverMakesIDsGoBack() {
        let clock = ScriptedClock(Self.epoch + 1000)
        let generator = SnowflakeGenerator(worker: 0, process: 0, clock: clock.read)
        var ids = [generator.next(), generator.next()]
        clock.set(Self.epoch + 500)
        ids.append(generator.next())
        clock.set(Self.epoch + 400)
        ids.append(generator.next())
        clock.set(Self.epoch + 1001)
        ids.append(generator.next())

        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(ids[0...3].map(\.unixMilliseconds) == Array(repeating: Self.epoch + 1000, count: 4))
        #expect(ids[0...3].map(\.increment) == [0, 1, 2, 3])
        #expect(ids[4].unixMilliseconds == Self.epoch + 1001)
        #expect(ids[4].increment == 0)
    }

    @Test func past4096InAMillisecondItWaitsForTheClocksNextMillisecond() throws {
        let start = Self.epoch + 1_000
        let clock = ScriptedClock(start)
        let generator = SnowflakeGenerator(worker: 1, process: 2, clock: clock.read)
        let first = (0..<4096).map { _ in generator.next() }
        #expect(first.allSatisfy { $0.unixMilliseconds == start })
        #expect(first.map(\.increment) == Array(0...4095))
        #expect(clock.reads == 4096)

        // The clock stays frozen for ten more reads, then moves on: the 4,097th ID must
        // have polled through all ten rather than run ahead of the clock.
        clock.advance(afterReads: 10)
        let next = generator.next()
        #expect(clock.reads == 4096 + 11)
        #expect(next.unixMilliseconds == start + 1)
        #expect(next.increment == 0)
        #expect(try #require(first.last) < next)
        #expect(Set(first + [next]).count == 4097)
    }

    @Test func exhaustingAMillisecondWhileTheClockIsBehindDoesNotHang() {
        let clock = ScriptedClock(Self.epoch + 100)
        let generator = SnowflakeGenerator(worker: 0, process: 0, clock: clock.read)
        let before = generator.next()
        clock.set(Self.epoch)  // stepped back 100 ms, and stays there
        let ids = (0..<10_000).map { _ in generator.next() }

        #expect(before < ids[0])
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        // 10,001 IDs need three logical milliseconds: 100, 101 and 102.
        #expect(ids.last?.unixMilliseconds == Self.epoch + 102)
        #expect(clock.reads == 10_001)

        // Once the wall clock passes the logical one, it is used again.
        clock.set(Self.epoch + 200)
        let caughtUp = generator.next()
        #expect(caughtUp.unixMilliseconds == Self.epoch + 200)
        #expect(caughtUp.increment == 0)
    }

    @Test func aClockBeforeTheEpochIsTreatedAsTheEpoch() {
        let generator = SnowflakeGenerator(worker: 0, process: 0) { 0 }
        let ids = (0..<3).map { _ in generator.next() }
        #expect(ids.map(\.rawValue) == [0, 1, 2])
    }

    @Test func theSystemClockReadsUnixMilliseconds() {
        // Bracketed by Foundation's clock (±1 ms for Double rounding): checks the unit and
        // the epoch without any bound on how long the reads take.
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let system = SnowflakeGenerator.systemMilliseconds()
        let id = SnowflakeGenerator(worker: 5, process: 6).next()
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect((before - 1)...(after + 1) ~= system)
        #expect((before - 1)...(after + 1) ~= id.unixMilliseconds)
        #expect(id.worker == 5)
        #expect(id.process == 6)
    }
}

/// Which task took the last ID, and how often that changed.
final class Overlap: Sendable {
    let last = Atomic<Int>(-1)
    let switches = Atomic<Int>(0)

    func record(_ task: Int) {
        let previous = last.exchange(task, ordering: .relaxed)
        if previous != -1 && previous != task { switches.add(1, ordering: .relaxed) }
    }
}
