import ReadStatesModule
import Snowflake
import Testing

/// The write-behind flusher over each real store: timing, races with updates and
/// evictions. Results are checked against the store's own contents.
@Suite struct WriteBehindStoreTests {
    @Test(arguments: StoreKind.allCases)
    func theFlushDelayIsHonouredOnTheInjectedClock(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let time = ManualClock()
        let writeBehind = WriteBehind(store: store, delay: 30)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: writeBehind, clock: time.clock)
        time.set(100)
        _ = try await engine.ack(user: id(1), channel: id(10), messageID: id(4))
        time.set(110)
        let last = try await engine.ack(user: id(1), channel: id(10), messageID: id(5))
        time.set(129)
        #expect(try await writeBehind.flush(from: engine) == 0)
        #expect(try await store.load(user: id(1)).isEmpty)
        // Due 30 s after the first unflushed change, not the last: 130, not 140.
        time.set(130)
        #expect(try await writeBehind.flush(from: engine) == 1)
        #expect(try await store.load(user: id(1)) == [last.state])
    }

    @Test(arguments: StoreKind.allCases)
    func aFlushRacingWithUpdatesOfOneStateEndsWithTheNewest(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let writeBehind = WriteBehind(store: store, delay: 0, batchSize: 1)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: writeBehind)
        let last = try await withThrowingTaskGroup(of: ReadState?.self) { group in
            group.addTask {
                var newest: ReadState?
                for message in 1...300 {
                    newest = try await engine.ack(user: id(1), channel: id(10), messageID: id(UInt64(message))).state
                    if message % 50 == 0 { await Task.yield() }
                }
                return newest
            }
            group.addTask {
                for _ in 0..<40 { try await writeBehind.flush(from: engine, everything: true) }
                return nil
            }
            var newest: ReadState?
            for try await result in group { newest = result ?? newest }
            return try #require(newest)
        }
        try await writeBehind.flush(from: engine, everything: true)
        #expect(try await store.load(user: id(1)) == [last])
        #expect(writeBehind.pendingCount == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func evictionsDuringAFlushLoseNothing(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let writeBehind = WriteBehind(store: store, delay: 0, batchSize: 7)
        // Room for 6 users of 3 channels: 40 users keep evicting each other.
        let engine = ReadStates(configuration: .init(capacity: 18, shards: 1), persistence: writeBehind)
        let users = 1...40
        let expected = try await withThrowingTaskGroup(of: [Snowflake: [ReadState]].self) { group in
            group.addTask {
                var newest: [Snowflake: [Snowflake: ReadState]] = [:]
                for round in 1...5 {
                    for user in users {
                        for channel in 1...3 {
                            let change = try await engine.ack(
                                user: id(UInt64(user)),
                                channel: id(UInt64(100 + channel)),
                                messageID: id(UInt64(round * 10 + channel))
                            )
                            newest[id(UInt64(user)), default: [:]][change.state.channelID] = change.state
                        }
                    }
                }
                return newest.mapValues { Array($0.values).sortedByChannel() }
            }
            group.addTask {
                for _ in 0..<30 {
                    try await writeBehind.flush(from: engine, everything: true)
                    await Task.yield()
                }
                return [:]
            }
            var expected: [Snowflake: [ReadState]] = [:]
            for try await result in group where !result.isEmpty { expected = result }
            return expected
        }
        try await writeBehind.flush(from: engine, everything: true)
        #expect(engine.statistics.evictedUsers > 0)
        for user in users {
            let stored = try await store.load(user: id(UInt64(user))).sortedByChannel()
            #expect(stored == expected[id(UInt64(user))], "user \(user)")
        }
    }
}
