import ReadStatesModule
import Snowflake
import Testing

@Suite struct ReadStatesEvictionTests {
    /// One shard, room for 6 read states: three users of two states each fill it.
    func makeEngine(_ persistence: RecordingPersistence) -> ReadStates {
        ReadStates(configuration: .init(capacity: 6, maximumUsers: 10, shards: 1), persistence: persistence)
    }

    @Test func theLeastRecentlyUsedUserIsEvictedWhole() async throws {
        let persistence = RecordingPersistence()
        let engine = makeEngine(persistence)
        for user in 1...3 {
            _ = try await engine.ack(user: id(UInt64(user)), channel: id(10), messageID: id(1))
            _ = try await engine.ack(user: id(UInt64(user)), channel: id(11), messageID: id(1))
        }
        // Use 1 again: 2 becomes least recently used.
        _ = try await engine.readStates(of: id(1))
        _ = try await engine.ack(user: id(4), channel: id(10), messageID: id(1))

        #expect(persistence.evicted.map(\.user) == [id(2)])
        #expect(engine.readStatesIfCached(of: id(2)) == nil)
        #expect(engine.readStatesIfCached(of: id(1))?.count == 2)
        #expect(engine.readStatesIfCached(of: id(3))?.count == 2)
        #expect(engine.statistics.evictedUsers == 1)
        #expect(engine.statistics.readStates == 5)
        engine.checkInvariants()
    }

    @Test func theHookReceivesExactlyTheDirtyStates() async throws {
        let clean = ReadState(channelID: id(20), lastMessageID: id(5), mentionCount: 0, version: 1)
        let persistence = RecordingPersistence([id(1): [clean]])
        let engine = makeEngine(persistence)
        // User 1 loads one clean state and changes another.
        let changed = try await engine.ack(user: id(1), channel: id(21), messageID: id(9))
        // A user whose states are all clean.
        try engine.insertLoaded(user: id(2), states: [
            ReadState(channelID: id(30), lastMessageID: id(1), mentionCount: 0, version: 1)
        ])
        // Fill up with user 3 until both others are gone.
        for channel in 40..<46 {
            _ = try await engine.mention(user: id(3), channel: id(UInt64(channel)), messageID: id(7))
        }
        let evicted = persistence.evicted
        #expect(evicted.count == 1)
        #expect(evicted.first?.user == id(1))
        #expect(evicted.first?.states == [changed.state])
        engine.checkInvariants()
    }

    @Test func anEvictedUserComesBackWithItsNewestStates() async throws {
        let persistence = RecordingPersistence()
        let engine = makeEngine(persistence)
        _ = try await engine.ack(user: id(1), channel: id(10), messageID: id(3))
        _ = try await engine.mention(user: id(1), channel: id(11), messageID: id(4))
        let before = try await engine.readStates(of: id(1)).sortedByChannel()
        for user in 2...7 {
            _ = try await engine.ack(user: id(UInt64(user)), channel: id(10), messageID: id(1))
        }
        #expect(engine.readStatesIfCached(of: id(1)) == nil)
        let after = try await engine.readStates(of: id(1)).sortedByChannel()
        #expect(after == before)
        // Versions keep growing after the reload.
        let next = try await engine.ack(user: id(1), channel: id(10), messageID: id(8))
        #expect(next.state.version > before.map(\.version).max()!)
        engine.checkInvariants()
    }

    @Test func aUserLargerThanTheShardIsAClearError() async throws {
        let engine = makeEngine(RecordingPersistence())
        for channel in 0..<6 {
            _ = try await engine.ack(user: id(1), channel: id(UInt64(100 + channel)), messageID: id(1))
        }
        await #expect(throws: ReadStatesError.self) {
            _ = try await engine.ack(user: id(1), channel: id(200), messageID: id(1))
        }
        #expect(try await engine.readStates(of: id(1)).count == 6)
        engine.checkInvariants()
    }

    @Test func runningOutOfUserRecordsEvictsTooEvenWithFreeSlots() async throws {
        let persistence = RecordingPersistence()
        let engine = ReadStates(configuration: .init(capacity: 100, maximumUsers: 3, shards: 1), persistence: persistence)
        for user in 1...4 {
            _ = try await engine.ack(user: id(UInt64(user)), channel: id(10), messageID: id(1))
        }
        #expect(persistence.evicted.map(\.user) == [id(1)])
        #expect(engine.statistics.users == 3)
        engine.checkInvariants()
    }
}

@Suite struct ReadStatesReleaseTests {
    /// What a cluster node does for the users it no longer owns: they leave the cache
    /// whatever their place in the LRU, their dirty states go to persistence, and the
    /// others stay untouched.
    @Test func releasedUsersLeaveTheCacheWithTheirDirtyStatesAndTheOthersStay() async throws {
        let persistence = RecordingPersistence([id(4): [ReadState(channelID: id(40), lastMessageID: id(2), mentionCount: 0, version: 1)]])
        let engine = ReadStates(configuration: .init(capacity: 1_000, shards: 4), persistence: persistence)
        for user in UInt64(1)...3 {
            _ = try await engine.ack(user: id(user), channel: id(10), messageID: id(7))
            _ = try await engine.mention(user: id(user), channel: id(11), messageID: id(8))
        }
        _ = try await engine.readStates(of: id(4))  // cached, clean
        let released = engine.release { $0 == id(1) || $0 == id(3) || $0 == id(4) }
        #expect(released == 3)
        #expect(engine.readStatesIfCached(of: id(1)) == nil)
        #expect(engine.readStatesIfCached(of: id(3)) == nil)
        #expect(engine.readStatesIfCached(of: id(4)) == nil)
        #expect(engine.readStatesIfCached(of: id(2))?.count == 2)
        // The dirty ones, whole; the clean user hands nothing over.
        let handed = Dictionary(uniqueKeysWithValues: persistence.evicted.map { ($0.user, $0.states) })
        #expect(Set(handed.keys) == [id(1), id(3)])
        #expect(handed[id(1)]?.count == 2 && handed[id(1)]?.first { $0.channelID == id(11) }?.mentionCount == 1)
        #expect(engine.statistics.users == 1)
        engine.checkInvariants()
        // Nothing selected: nothing moves.
        #expect(engine.release { _ in false } == 0)
        #expect(engine.readStatesIfCached(of: id(2))?.count == 2)
    }

    @Test func oneUserIsReleasedFromItsShardWithItsDirtyStates() async throws {
        let persistence = RecordingPersistence([:])
        let engine = ReadStates(configuration: .init(capacity: 1_000, shards: 4), persistence: persistence)
        for user in UInt64(1)...3 { _ = try await engine.ack(user: id(user), channel: id(10), messageID: id(7)) }
        #expect(engine.release(user: id(2)))
        #expect(engine.readStatesIfCached(of: id(2)) == nil)
        #expect(engine.readStatesIfCached(of: id(1))?.count == 1)
        #expect(engine.readStatesIfCached(of: id(3))?.count == 1)
        #expect(persistence.evicted.map(\.user) == [id(2)])
        #expect(!engine.release(user: id(2)), "no longer cached")
        engine.checkInvariants()
    }
}
