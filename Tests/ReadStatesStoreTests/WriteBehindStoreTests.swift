import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

/// A store whose first write waits at a gate until the test opens it: that write
/// lands after writes made later.
final class FirstWriteGatedStore: ReadStatesStore {
    let inner: any ReadStatesStore
    private let gate = Mutex<Gate>(Gate())

    private struct Gate {
        var used = false
        var held: CheckedContinuation<Void, Never>?
        var open = false
    }

    init(_ inner: any ReadStatesStore) {
        self.inner = inner
    }

    func load(user: Snowflake) async throws -> [ReadState] {
        try await inner.load(user: user)
    }

    func write(_ states: [UserReadState]) async throws {
        await withCheckedContinuation { continuation in
            let wait = gate.withLock { gate -> Bool in
                guard !gate.used, !gate.open else { return false }
                gate.used = true
                gate.held = continuation
                return true
            }
            if !wait { continuation.resume() }
        }
        try await inner.write(states)
    }

    var isHolding: Bool { gate.withLock { $0.held != nil } }

    func open() {
        let held = gate.withLock { gate in
            gate.open = true
            defer { gate.held = nil }
            return gate.held
        }
        held?.resume()
    }
}

/// The write-behind flusher over each real store: timing, races with updates and
/// evictions. Results are checked against the store's own contents.
@Suite(.timeLimit(.minutes(3))) struct WriteBehindStoreTests {
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

    /// A flush whose write of an older version is held up while a later flush writes
    /// the newer one: when the older write finally lands, the store keeps the newer
    /// state, and a reload sees it. (A cancelled write can still land after the
    /// shutdown's final flush in just this way.)
    @Test(arguments: StoreKind.allCases)
    func anOlderWriteLandingLateDoesNotMoveTheStoreBackwards(kind: StoreKind) async throws {
        let (inner, _) = try await kind.make()
        let store = FirstWriteGatedStore(inner)
        let writeBehind = WriteBehind(store: store, delay: 0)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: writeBehind)
        let older = try await engine.ack(user: id(1), channel: id(10), messageID: id(4), manual: true, mentionCount: 2)
        let late = Task { try await writeBehind.flush(from: engine) }
        try await eventually("the first write to be held at the gate") { store.isHolding }
        let newer = try await engine.ack(user: id(1), channel: id(10), messageID: id(9))
        #expect(newer.state.version > older.state.version)
        #expect(try await writeBehind.flush(from: engine, everything: true) >= 1)
        #expect(try await inner.load(user: id(1)) == [newer.state])
        store.open()
        _ = try await late.value
        #expect(try await inner.load(user: id(1)) == [newer.state])
        #expect(writeBehind.pendingCount == 0)
        let reloaded = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: WriteBehind(store: inner))
        #expect(try await reloaded.readStates(of: id(1)) == [newer.state])
    }

    @Test(arguments: StoreKind.allCases)
    func aFlushRacingWithUpdatesOfOneStateEndsWithTheNewest(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let writeBehind = WriteBehind(store: store, delay: 0, batchSize: 1)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: writeBehind)
        let start = StartLine(count: 2)
        let interleavings = Interleavings()
        let updating = SharedFlag(true)
        let last = try await withThrowingTaskGroup(of: ReadState?.self) { group in
            group.addTask {
                var newest: ReadState?
                try await start.arriveAndWait()
                for message in 1...300 {
                    interleavings.record(0)
                    newest = try await engine.ack(user: id(1), channel: id(10), messageID: id(UInt64(message))).state
                    if message % 10 == 0 { await Task.yield() }
                }
                updating.set(false)
                return newest
            }
            group.addTask {
                // Flushes for as long as updates go on, not a fixed count that could
                // finish before they start.
                try await start.arriveAndWait()
                while updating.value {
                    interleavings.record(1)
                    try await writeBehind.flush(from: engine, everything: true)
                    await Task.yield()
                }
                return nil
            }
            var newest: ReadState?
            for try await result in group { newest = result ?? newest }
            return try #require(newest)
        }
        try await writeBehind.flush(from: engine, everything: true)
        #expect(try await store.load(user: id(1)) == [last])
        #expect(writeBehind.pendingCount == 0)
        // Flushes ran between the updates, not all before or after them.
        #expect(interleavings.count > 1, "\(interleavings.count) switches")
    }

    @Test(arguments: StoreKind.allCases)
    func evictionsDuringAFlushLoseNothing(kind: StoreKind) async throws {
        let (store, _) = try await kind.make()
        let writeBehind = WriteBehind(store: store, delay: 0, batchSize: 7)
        // Room for 6 users of 3 channels: 40 users keep evicting each other.
        let engine = ReadStates(configuration: .init(capacity: 18, shards: 1), persistence: writeBehind)
        let users = 1...40
        let start = StartLine(count: 2)
        let interleavings = Interleavings()
        let updating = SharedFlag(true)
        let expected = try await withThrowingTaskGroup(of: [Snowflake: [ReadState]].self) { group in
            group.addTask {
                var newest: [Snowflake: [Snowflake: ReadState]] = [:]
                try await start.arriveAndWait()
                for round in 1...5 {
                    for user in users {
                        interleavings.record(0)
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
                updating.set(false)
                return newest.mapValues { Array($0.values).sortedByChannel() }
            }
            group.addTask {
                try await start.arriveAndWait()
                while updating.value {
                    interleavings.record(1)
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
        #expect(interleavings.count > 1, "\(interleavings.count) switches")
        for user in users {
            let stored = try await store.load(user: id(UInt64(user))).sortedByChannel()
            #expect(stored == expected[id(UInt64(user))], "user \(user)")
        }
    }
}
