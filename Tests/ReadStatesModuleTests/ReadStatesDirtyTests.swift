@testable import ReadStatesModule
import Snowflake
import Synchronization
import Testing

@Suite struct ReadStatesDirtyTests {
    let time = ManualClock()

    func makeEngine(shards: Int) -> ReadStates {
        ReadStates(configuration: .init(capacity: 100, shards: shards), persistence: InMemoryReadStatesPersistence(), clock: time.clock)
    }

    func collectAll(_ engine: ReadStates, now: UInt32, age: UInt32) -> [UserReadState] {
        var cursors: [Int] = []
        var collected: [UserReadState] = []
        while true {
            let (states, complete) = engine.collectDirty(now: now, age: age, cursors: &cursors, usersPerShard: 2)
            collected += states
            if complete { return collected }
        }
    }

    @Test func onePassScansEachShardOnceHoweverUnequalTheShards() async throws {
        // Room for every user in any shard: with 25 users a shard, a shard that drew
        // more than its share evicted some (the split varies from run to run), and
        // those states left through eviction instead of the scan.
        let engine = ReadStates(
            configuration: .init(capacity: 4000, shards: 4), persistence: InMemoryReadStatesPersistence(), clock: time.clock
        )
        for user in 1...60 {
            _ = try await engine.ack(user: id(UInt64(user)), channel: id(10), messageID: id(5))
        }
        var cursors: [Int] = []
        var calls = 0
        var collected = 0
        while true {
            let (states, complete) = engine.collectDirty(now: 0, age: 0, cursors: &cursors, usersPerShard: 3)
            calls += 1
            collected += states.count
            if complete { break }
            try #require(calls < 1000)
        }
        #expect(engine.statistics.evictedUsers == 0)
        #expect(collected == 60)
        // One slice of 3 per call from every unfinished shard: the largest shard sets the
        // number of calls, plus the call that finds its end.
        let largest = Dictionary(grouping: 1...60) { ObjectIdentifier(engine.shard(for: id(UInt64($0)))) }.values.map(\.count).max() ?? 0
        #expect(calls <= (largest + 2) / 3 + 1)
    }

    @Test func dirtyStatesAreCollectedOnceTheyAreOldEnoughAndThenClean() async throws {
        let engine = makeEngine(shards: 2)
        time.now.store(100, ordering: .relaxed)
        let first = try await engine.ack(user: id(1), channel: id(10), messageID: id(5))
        try engine.insertLoaded(user: id(2), states: [
            ReadState(channelID: id(20), lastMessageID: id(1), mentionCount: 0, version: 1)
        ])
        time.now.store(110, ordering: .relaxed)
        let second = try await engine.mention(user: id(3), channel: id(30), messageID: id(6))
        #expect(engine.statistics.dirtyStates == 2)

        // At 120 with a 30 s delay nothing is due; at 130 user 1's change is; at 140 both.
        #expect(collectAll(engine, now: 120, age: 30).isEmpty)
        #expect(collectAll(engine, now: 130, age: 30) == [UserReadState(userID: id(1), state: first.state)])
        #expect(collectAll(engine, now: 140, age: 30) == [UserReadState(userID: id(3), state: second.state)])
        #expect(engine.statistics.dirtyStates == 0)
        #expect(collectAll(engine, now: 1000, age: 0).isEmpty)
        engine.checkInvariants()

        // A new change makes the user dirty again, from the new time on.
        time.now.store(200, ordering: .relaxed)
        let third = try await engine.ack(user: id(1), channel: id(10), messageID: id(7))
        #expect(collectAll(engine, now: 229, age: 30).isEmpty)
        #expect(collectAll(engine, now: 230, age: 30) == [UserReadState(userID: id(1), state: third.state)])
        engine.checkInvariants()
    }

    @Test func theDirtyTickWrapsWithoutLosingTheAge() async throws {
        let engine = makeEngine(shards: 1)
        time.now.store(65_530, ordering: .relaxed)
        let change = try await engine.ack(user: id(1), channel: id(10), messageID: id(5))
        #expect(collectAll(engine, now: 65_530 + 29, age: 30).isEmpty)
        #expect(collectAll(engine, now: 65_530 + 30, age: 30) == [UserReadState(userID: id(1), state: change.state)])
    }
}
