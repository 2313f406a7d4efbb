import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

/// A store that fails while `down` is set.
final class SwitchableStore: ReadStatesStore {
    struct Unavailable: Error {}
    let inner = InMemoryReadStatesPersistence()
    let down = Atomic<Bool>(false)
    let writes = Atomic<Int>(0)

    func load(user: Snowflake) async throws -> [ReadState] {
        if down.load(ordering: .relaxed) { throw Unavailable() }
        return try await inner.load(user: user)
    }

    func write(_ states: [UserReadState]) async throws {
        if down.load(ordering: .relaxed) { throw Unavailable() }
        writes.add(1, ordering: .relaxed)
        try await inner.write(states)
    }
}

@Suite struct WriteBehindTests {
    let time = ManualClock()
    let store = SwitchableStore()

    func makeEngine(_ writeBehind: WriteBehind, capacity: Int = 100) -> ReadStates {
        ReadStates(configuration: .init(capacity: capacity, shards: 1), persistence: writeBehind, clock: time.clock)
    }

    @Test func changesAreWrittenOnceTheDelayHasPassedAndCoalesce() async throws {
        let writeBehind = WriteBehind(store: store, delay: 30)
        let engine = makeEngine(writeBehind)
        time.now.store(100, ordering: .relaxed)
        for message in 1...5 {
            _ = try await engine.ack(user: id(1), channel: id(10), messageID: id(UInt64(message)))
        }
        time.now.store(129, ordering: .relaxed)
        #expect(try await writeBehind.flush(from: engine) == 0)
        #expect(store.inner.stored(user: id(1)).isEmpty)
        time.now.store(130, ordering: .relaxed)
        #expect(try await writeBehind.flush(from: engine) == 1)
        #expect(store.inner.stored(user: id(1)).map(\.lastMessageID) == [id(5)])
        #expect(engine.statistics.dirtyStates == 0)
        #expect(writeBehind.pendingCount == 0)
    }

    @Test func anEvictedDirtyUserReloadedBeforeItsWriteSeesTheNewestState() async throws {
        let writeBehind = WriteBehind(store: store, delay: 30)
        let engine = makeEngine(writeBehind, capacity: 2)
        try await store.write([UserReadState(userID: id(1), state: ReadState(channelID: id(10), lastMessageID: id(3), mentionCount: 0, version: 1))])
        let newest = try await engine.ack(user: id(1), channel: id(10), messageID: id(9))
        // Two other users push user 1 out; its state is pending, not yet in the store.
        _ = try await engine.ack(user: id(2), channel: id(20), messageID: id(1))
        _ = try await engine.ack(user: id(3), channel: id(30), messageID: id(1))
        #expect(engine.readStatesIfCached(of: id(1)) == nil)
        #expect(writeBehind.pendingCount >= 1)
        #expect(store.inner.stored(user: id(1)).map(\.lastMessageID) == [id(3)])

        let reloaded = try await engine.readStates(of: id(1))
        #expect(reloaded == [newest.state])
        // Once written, the store has it and nothing is pending for that user.
        try await writeBehind.flush(from: engine, everything: true)
        #expect(store.inner.stored(user: id(1)) == [newest.state])
    }

    @Test func aFailedWriteKeepsTheDataAndTheNextRoundWritesIt() async throws {
        let writeBehind = WriteBehind(store: store, delay: 0)
        let engine = makeEngine(writeBehind)
        let change = try await engine.mention(user: id(1), channel: id(10), messageID: id(2))
        store.down.store(true, ordering: .relaxed)
        await #expect(throws: SwitchableStore.Unavailable.self) { try await writeBehind.flush(from: engine) }
        #expect(writeBehind.pendingCount == 1)
        #expect(writeBehind.statistics.failedWrites == 1)
        store.down.store(false, ordering: .relaxed)
        #expect(try await writeBehind.flush(from: engine) == 1)
        #expect(store.inner.stored(user: id(1)) == [change.state])
        #expect(writeBehind.pendingCount == 0)
    }

    @Test func whileTheStoreIsDownPendingStaysBoundedAndDirtyStatesWaitInTheCache() async throws {
        let writeBehind = WriteBehind(store: store, delay: 0, maximumPending: 3, usersPerSlice: 2)
        let engine = makeEngine(writeBehind)
        for user in 1...10 {
            _ = try await engine.ack(user: id(UInt64(user)), channel: id(10), messageID: id(5))
        }
        store.down.store(true, ordering: .relaxed)
        await #expect(throws: SwitchableStore.Unavailable.self) { try await writeBehind.flush(from: engine) }
        // Collection stops at the bound (passed by at most one slice of 2 users).
        let held = writeBehind.pendingCount
        #expect((3...4).contains(held))
        #expect(engine.statistics.dirtyStates == 10 - held)
        await #expect(throws: SwitchableStore.Unavailable.self) { try await writeBehind.flush(from: engine) }
        #expect(writeBehind.pendingCount == held)
        #expect(writeBehind.statistics.deferredRounds == 1)
        #expect(writeBehind.statistics.pendingStates == held)
        #expect(writeBehind.statistics.failedWrites == 2)

        store.down.store(false, ordering: .relaxed)
        var rounds = 0
        while engine.statistics.dirtyStates > 0 || writeBehind.pendingCount > 0 {
            try await writeBehind.flush(from: engine)
            rounds += 1
            try #require(rounds < 10)
        }
        for user in 1...10 {
            #expect(store.inner.stored(user: id(UInt64(user))).map(\.lastMessageID) == [id(5)])
        }
    }

    @Test func shutdownWritesEverythingInBatches() async throws {
        let writeBehind = WriteBehind(store: store, delay: 30, batchSize: 100)
        let engine = makeEngine(writeBehind, capacity: 1000)
        for user in 1...25 {
            for channel in 1...10 {
                _ = try await engine.ack(user: id(UInt64(user)), channel: id(UInt64(channel)), messageID: id(7))
            }
        }
        #expect(try await writeBehind.flush(from: engine) == 0)
        #expect(try await writeBehind.flush(from: engine, everything: true) == 250)
        #expect(store.writes.load(ordering: .relaxed) == 3)
        #expect(writeBehind.statistics.batchesWritten == 3)
        #expect(store.inner.stored(user: id(25)).count == 10)
    }
}

@Suite(.timeLimit(.minutes(2))) struct WriteBehindRunTests {
    @Test func theLoopWritesDueStatesAndFlushesEverythingWhenCancelled() async throws {
        let time = ManualClock()
        let store = SwitchableStore()
        let writeBehind = WriteBehind(store: store, delay: 30)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: writeBehind, clock: time.clock)
        let due = try await engine.ack(user: id(1), channel: id(10), messageID: id(3))
        let loop = Task { try await writeBehind.run(engine: engine, interval: .milliseconds(5)) }

        time.now.store(30, ordering: .relaxed)
        let notDue = try await engine.ack(user: id(2), channel: id(20), messageID: id(4))
        // The loop's next rounds write it (the store gives no event to await).
        try await eventually("the loop to write user 1's due state") { !store.inner.stored(user: id(1)).isEmpty }
        #expect(store.inner.stored(user: id(1)) == [due.state])
        #expect(store.inner.stored(user: id(2)).isEmpty)

        loop.cancel()
        try await loop.value
        #expect(store.inner.stored(user: id(2)) == [notDue.state])
        #expect(writeBehind.pendingCount == 0)
    }
}

/// A store that is down while `down` is set and notes when each write was tried.
final class AttemptRecordingStore: ReadStatesStore {
    let inner = SwitchableStore()
    let attempts = Mutex<[ContinuousClock.Instant]>([])

    func load(user: Snowflake) async throws -> [ReadState] {
        try await inner.load(user: user)
    }

    func write(_ states: [UserReadState]) async throws {
        attempts.withLock { $0.append(.now) }
        try await inner.write(states)
    }
}

@Suite(.timeLimit(.minutes(2))) struct WriteBehindBackOffTests {
    /// While the store is down the loop retries with doubling waits (no busy loop), keeps
    /// the data pending, and writes it once the store is back.
    @Test func theLoopBacksOffWhileTheStoreIsDownAndRecovers() async throws {
        let store = AttemptRecordingStore()
        let writeBehind = WriteBehind(store: store, delay: 0)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: writeBehind)
        let change = try await engine.ack(user: id(1), channel: id(10), messageID: id(3))
        store.inner.down.store(true, ordering: .relaxed)
        let interval = Duration.milliseconds(5)
        let loop = Task { try await writeBehind.run(engine: engine, interval: interval) }

        try await eventually("six failed write attempts") {
            store.attempts.withLock { $0.count } >= 6 && writeBehind.statistics.failedWrites >= 6
        }
        let attempts = store.attempts.withLock { $0 }
        // Each wait is at least twice the one before: 10, 20, 40, 80, 160 ms after the
        // first (a sleep is never shorter than asked, so this holds on a slow machine too).
        for index in 1..<6 {
            let waited = attempts[index] - attempts[index - 1]
            #expect(waited >= interval * (1 << index), "wait \(index): \(waited)")
        }
        #expect(writeBehind.pendingCount == 1)
        #expect(writeBehind.statistics.failedWrites >= 6)
        #expect(store.inner.inner.stored(user: id(1)).isEmpty)

        store.inner.down.store(false, ordering: .relaxed)
        try await eventually("the write once the store is back, confirmed") {
            !store.inner.inner.stored(user: id(1)).isEmpty && writeBehind.pendingCount == 0
        }
        #expect(store.inner.inner.stored(user: id(1)) == [change.state])
        // Back to the normal interval: a new change is written within a few rounds.
        let later = try await engine.ack(user: id(1), channel: id(10), messageID: id(4))
        try await eventually("the next change") { store.inner.inner.stored(user: id(1)) == [later.state] }
        loop.cancel()
        try await loop.value
    }
}
