import Foundation
import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport
import Testing

/// The calling thread's nice value and identity.
private func currentThread() -> (nice: Int32, id: pthread_t) {
    (getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), pthread_self())
}

/// A store that notes the nice value of the thread each write runs on.
private final class PriorityRecordingStore: ReadStatesStore {
    let inner = InMemoryReadStatesPersistence()
    let writeNices = Mutex<[Int32]>([])

    func load(user: Snowflake) async throws -> [ReadState] { try await inner.load(user: user) }

    func write(_ states: [UserReadState]) async throws {
        let nice = currentThread().nice
        writeNices.withLock { $0.append(nice) }
        try await inner.write(states)
    }
}

/// Nice values are absolute: the executor's thread gets `requested`, unless the
/// process runs nicer already and may not lower it (only root may).
private func expectedNice(_ requested: Int32, caller: Int32) -> Int32 {
    geteuid() == 0 ? requested : max(caller, requested)
}

@Suite(.timeLimit(.minutes(2))) struct LowPriorityExecutorTests {
    @Test func jobsRunOnOneThreadAtItsNiceValue() async throws {
        let executor = LowPriorityExecutor(name: "test-low-priority", nice: 5)
        defer { executor.stop() }
        let caller = currentThread()
        let threads = await withTaskExecutorPreference(executor) {
            var seen: [(nice: Int32, id: pthread_t)] = []
            for _ in 0..<3 {
                seen.append(currentThread())
                await Task.yield()
            }
            return seen
        }
        #expect(threads.allSatisfy { $0.nice == expectedNice(5, caller: caller.nice) })
        #expect(Set(threads.map(\.id)).count == 1)
        #expect(threads[0].id != caller.id, "not the caller's thread")
    }

    @Test func jobsEnqueuedAfterStopStillRun() async throws {
        let executor = LowPriorityExecutor(name: "test-stopped", nice: 3)
        executor.stop()
        let caller = currentThread()
        let ranAt = await withTaskExecutorPreference(executor) {
            await Task.yield()
            return currentThread().nice
        }
        // On the shared pool, at the process's priority, not on the stopped thread's.
        #expect(ranAt == caller.nice)
    }

    @Test func theFlusherWritesFromItsLowPriorityThread() async throws {
        let store = PriorityRecordingStore()
        let writeBehind = WriteBehind(store: store, delay: 0, flusherNice: 7)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 1), persistence: writeBehind)
        let change = try await engine.ack(user: id(1), channel: id(10), messageID: id(3))
        let loop = Task { try await writeBehind.run(engine: engine, interval: .milliseconds(5)) }
        // The loop's first write (the store gives no event to await).
        try await eventually("the loop's first write") { !store.inner.stored(user: id(1)).isEmpty }
        loop.cancel()
        try await loop.value
        #expect(store.inner.stored(user: id(1)) == [change.state])
        let expected = expectedNice(7, caller: currentThread().nice)
        #expect(!store.writeNices.withLock { $0 }.isEmpty)
        #expect(store.writeNices.withLock { $0 }.allSatisfy { $0 == expected })
    }
}
