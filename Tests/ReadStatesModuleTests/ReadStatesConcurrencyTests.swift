import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(3))) struct ReadStatesConcurrencyTests {
    @Test func twoConcurrentMissesForOneUserLoadOnce() async throws {
        let persistence = GatedPersistence()
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: persistence)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { try await engine.readStates(of: id(1)).count }
            }
            try await persistence.waitForLoads(1)
            persistence.openGate()
            for try await count in group { #expect(count == 0) }
        }
        #expect(persistence.started.load(ordering: .relaxed) == 1)
        #expect(persistence.store.loads == 1)
    }

    @Test func anUpdateWaitingOnALoadLandsOnTopOfTheLoadedState() async throws {
        let persistence = GatedPersistence()
        persistence.store.write(user: id(1), states: [
            ReadState(channelID: id(10), lastMessageID: id(50), mentionCount: 2, version: 7)
        ])
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: persistence)
        async let ack = engine.ack(user: id(1), channel: id(10), messageID: id(60))
        async let staleAck = engine.ack(user: id(1), channel: id(10), messageID: id(40))
        try await persistence.waitForLoads(1)
        persistence.openGate()
        let (fresh, stale) = try await (ack, staleAck)
        #expect(fresh.isUpdated)
        #expect(!stale.isUpdated)
        let states = try await engine.readStates(of: id(1))
        #expect(states.map(\.lastMessageID) == [id(60)])
        #expect(states.map(\.version) == [8])
    }

    @Test func aLoadOfAUserAlreadyCachedKeepsTheCachedStates() throws {
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: InMemoryReadStatesPersistence())
        try engine.insertLoaded(user: id(1), states: [])
        _ = try engine.ackIfCached(user: id(1), channel: id(10), messageID: id(9))
        try engine.insertLoaded(user: id(1), states: [
            ReadState(channelID: id(10), lastMessageID: id(3), mentionCount: 0, version: 1),
            ReadState(channelID: id(11), lastMessageID: id(3), mentionCount: 0, version: 1),
        ])
        let states = try #require(engine.readStatesIfCached(of: id(1))).sortedByChannel()
        #expect(states.map(\.lastMessageID) == [id(9), id(3)])
        engine.checkInvariants()
    }

    @Test func concurrentAcksOfOneStateKeepTheNewest() async throws {
        let engine = ReadStates(configuration: .init(capacity: 1000, shards: 4), persistence: InMemoryReadStatesPersistence())
        let start = StartLine(count: 8)
        let interleavings = Interleavings()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    try await start.arriveAndWait()
                    for step in 0..<500 {
                        interleavings.record(task)
                        _ = try await engine.ack(user: id(1), channel: id(10), messageID: id(UInt64(step * 8 + task + 1)))
                        if step % 25 == 0 { await Task.yield() }
                    }
                }
            }
            try await group.waitForAll()
        }
        let states = try await engine.readStates(of: id(1))
        #expect(states.map(\.lastMessageID) == [id(4000)])
        engine.checkInvariants()
        // The tasks ran at the same time (8 tasks in sequence switch 7 times).
        #expect(interleavings.count > 8, "\(interleavings.count) switches")
    }

    /// Many tasks on their own users, sharing shards and evicting each other, each
    /// against a dictionary model; the store behind the cache makes eviction invisible.
    @Test func concurrentRandomOperationsMatchAModel() async throws {
        let persistence = InMemoryReadStatesPersistence()
        let engine = ReadStates(configuration: .init(capacity: 400, maximumUsers: 80, shards: 4), persistence: persistence)
        let tasks = 8
        let start = StartLine(count: tasks)
        let interleavings = Interleavings()
        let models = try await withThrowingTaskGroup(of: [Snowflake: [Snowflake: ModelState]].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var runner = ModelRunner(engine: engine, seed: UInt64(task + 1), users: (0..<20).map { id(UInt64(task * 100 + $0 + 1)) })
                    runner.beforeEachStep = { interleavings.record(task) }
                    try await start.arriveAndWait()
                    return try await runner.run(steps: 3000)
                }
            }
            var merged: [Snowflake: [Snowflake: ModelState]] = [:]
            for try await model in group { merged.merge(model) { a, _ in a } }
            return merged
        }
        engine.checkInvariants()
        for (user, channels) in models {
            let states = try await engine.readStates(of: user)
            let actual = Dictionary(uniqueKeysWithValues: states.map { ($0.channelID, ModelState($0)) })
            #expect(actual == channels, "user \(user)")
        }
        #expect(engine.statistics.evictedUsers > 0)
        #expect(interleavings.count > tasks, "\(interleavings.count) switches")
    }

    /// With 6 channels a user's states fit one block; with 20 they span three, so the
    /// block chains, partly used last blocks and their eviction are exercised too.
    @Test(arguments: [6, 20])
    func randomSequencesKeepTheStructureConsistent(channelsPerUser: Int) async throws {
        for seed in 1...5 {
            let engine = ReadStates(
                configuration: .init(capacity: 64, maximumUsers: 12, shards: 1),
                persistence: InMemoryReadStatesPersistence()
            )
            let runner = ModelRunner(
                engine: engine,
                seed: UInt64(seed),
                users: (1...30).map { id(UInt64($0)) },
                channels: channelsPerUser
            )
            let model = try await runner.run(steps: 2000, checkingEvery: 50)
            for (user, channels) in model {
                let states = try await engine.readStates(of: user)
                #expect(Dictionary(uniqueKeysWithValues: states.map { ($0.channelID, ModelState($0)) }) == channels)
            }
            engine.checkInvariants()
        }
    }
}

extension ReadStatesConcurrencyTests {
    /// The same random sequences through the real write-behind, flushed every 25 steps:
    /// users of up to 20 states span three blocks, blocks of evicted dirty users are
    /// reused while the flusher scans, and what reaches the store must be the model.
    @Test func randomSequencesThroughTheWriteBehindReachTheStoreIntact() async throws {
        for seed in 1...3 {
            let store = InMemoryReadStatesPersistence()
            let writeBehind = WriteBehind(store: store, delay: 0, usersPerSlice: 7)
            let engine = ReadStates(configuration: .init(capacity: 64, maximumUsers: 12, shards: 2), persistence: writeBehind)
            let runner = ModelRunner(
                engine: engine,
                seed: UInt64(seed),
                users: (1...30).map { id(UInt64($0)) },
                channels: 20,
                periodically: { try await writeBehind.flush(from: engine) }
            )
            let model = try await runner.run(steps: 2000, checkingEvery: 25)
            try await writeBehind.flush(from: engine, everything: true)
            engine.checkInvariants()
            #expect(engine.statistics.dirtyStates == 0)
            #expect(writeBehind.pendingCount == 0)
            for (user, channels) in model {
                let stored = store.stored(user: user)
                #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.channelID, ModelState($0)) }) == channels, "user \(user)")
            }
        }
    }
}

/// What a model keeps of a read state (versions are the engine's business).
struct ModelState: Equatable {
    var lastMessageID: Snowflake
    var mentionCount: Int

    init(lastMessageID: Snowflake, mentionCount: Int) {
        self.lastMessageID = lastMessageID
        self.mentionCount = mentionCount
    }

    init(_ state: ReadState) {
        self.init(lastMessageID: state.lastMessageID, mentionCount: state.mentionCount)
    }
}

/// Applies random operations to the engine and to a dictionary, and checks every
/// answer against the dictionary's.
struct ModelRunner {
    let engine: ReadStates
    let seed: UInt64
    let users: [Snowflake]
    /// Channels each user's operations are spread over.
    var channels = 6
    /// Runs every `checkingEvery` steps (after the invariant check), e.g. a flush.
    var periodically: @Sendable () async throws -> Void = {}
    /// Runs before every step (a concurrent test counts interleavings with it).
    var beforeEachStep: @Sendable () -> Void = {}

    func run(steps: Int, checkingEvery: Int = 0) async throws -> [Snowflake: [Snowflake: ModelState]] {
        var generator = SplitMix(seed: seed)
        var model: [Snowflake: [Snowflake: ModelState]] = [:]
        for step in 0..<steps {
            beforeEachStep()
            // Cache hits never suspend: a yield now and then lets the pool interleave
            // the tasks of a concurrent test even on one free thread.
            if step % 50 == 0 { await Task.yield() }
            let user = users[Int(generator.next() % UInt64(users.count))]
            let channel = id(1000 + generator.next() % UInt64(channels))
            let message = id(1 + generator.next() % 200)
            let current = model[user]?[channel] ?? ModelState(lastMessageID: .zero, mentionCount: 0)
            switch generator.next() % 10 {
            case 0..<4:
                let change = try await engine.mention(user: user, channel: channel, messageID: message)
                let expected = current.lastMessageID < message && current.mentionCount < ReadState.maximumMentionCount
                #expect(change.isUpdated == expected)
                if expected { model[user, default: [:]][channel] = ModelState(lastMessageID: current.lastMessageID, mentionCount: current.mentionCount + 1) }
            case 4..<8:
                let change = try await engine.ack(user: user, channel: channel, messageID: message)
                let expected = message > current.lastMessageID
                #expect(change.isUpdated == expected)
                if expected { model[user, default: [:]][channel] = ModelState(lastMessageID: message, mentionCount: 0) }
            case 8:
                let count = Int(generator.next() % 4)
                let change = try await engine.ack(user: user, channel: channel, messageID: message, manual: true, mentionCount: count)
                let next = ModelState(lastMessageID: message, mentionCount: count)
                #expect(change.isUpdated == (next != current))
                model[user, default: [:]][channel] = next
            default:
                let states = try await engine.readStates(of: user)
                #expect(Dictionary(uniqueKeysWithValues: states.map { ($0.channelID, ModelState($0)) }) == (model[user] ?? [:]))
            }
            if checkingEvery > 0 && step % checkingEvery == 0 {
                engine.checkInvariants()
                try await periodically()
            }
        }
        return model
    }
}

/// A seedable generator so a failing sequence can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A store that is down for its first `failures` loads.
final class FlakyPersistence: ReadStatesPersistence {
    struct Down: Error {}
    let store = InMemoryReadStatesPersistence()
    let remainingFailures: Atomic<Int>

    init(failures: Int) {
        remainingFailures = Atomic(failures)
    }

    func load(user: Snowflake) async throws -> [ReadState] {
        if remainingFailures.subtract(1, ordering: .relaxed).newValue >= 0 { throw Down() }
        return try await store.load(user: user)
    }

    func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        store.evicted(user: user, dirtyStates: dirtyStates)
    }
}

@Suite struct ReadStatesLoadFailureTests {
    @Test func aFailedLoadIsReportedAndTheNextMissTriesAgain() async throws {
        let persistence = FlakyPersistence(failures: 1)
        persistence.store.write(user: id(1), states: [
            ReadState(channelID: id(10), lastMessageID: id(4), mentionCount: 1, version: 3)
        ])
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: persistence)
        await #expect(throws: FlakyPersistence.Down.self) {
            _ = try await engine.ack(user: id(1), channel: id(10), messageID: id(5))
        }
        #expect(engine.readStatesIfCached(of: id(1)) == nil)
        let change = try await engine.ack(user: id(1), channel: id(10), messageID: id(5))
        #expect(change.isUpdated)
        #expect(change.state.version == 4)
        engine.checkInvariants()
    }
}
