import ReadStatesModule
import Snowflake
import Synchronization
import TestSupport

/// Short Snowflake literals for tests: `id(5)` is a valid ID with timestamp 5 ms.
func id(_ value: UInt64) -> Snowflake {
    Snowflake(rawValue: value << 22)
}

/// A persistence that records every eviction, over an in-memory store.
final class RecordingPersistence: ReadStatesPersistence {
    let store: InMemoryReadStatesPersistence
    private let evictions = Mutex<[(user: Snowflake, states: [ReadState])]>([])

    init(_ initial: [Snowflake: [ReadState]] = [:]) {
        store = InMemoryReadStatesPersistence(initial)
    }

    func load(user: Snowflake) async throws -> [ReadState] {
        try await store.load(user: user)
    }

    func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        evictions.withLock { $0.append((user, dirtyStates)) }
        store.evicted(user: user, dirtyStates: dirtyStates)
    }

    var evicted: [(user: Snowflake, states: [ReadState])] {
        evictions.withLock { $0 }
    }
}

/// A persistence whose loads wait until the test opens the gate, to line up races.
final class GatedPersistence: ReadStatesPersistence {
    let store = InMemoryReadStatesPersistence()
    private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let open = Mutex(false)
    let started = Atomic<Int>(0)

    func load(user: Snowflake) async throws -> [ReadState] {
        started.add(1, ordering: .relaxed)
        await withCheckedContinuation { continuation in
            let proceed = open.withLock { open in
                if open { return true }
                waiting.withLock { $0.append(continuation) }
                return false
            }
            if proceed { continuation.resume() }
        }
        return try await store.load(user: user)
    }

    func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        store.evicted(user: user, dirtyStates: dirtyStates)
    }

    func openGate() {
        let continuations = open.withLock { open in
            open = true
            return waiting.withLock { waiting in
                defer { waiting.removeAll() }
                return waiting
            }
        }
        continuations.forEach { $0.resume() }
    }

    /// Waits (at most 30 s) until `count` loads have begun.
    func waitForLoads(_ count: Int) async throws {
        try await eventually("\(count) loads to begin", every: .microseconds(100)) { started.load(ordering: .relaxed) >= count }
    }
}

/// A hand-driven clock for the engine.
final class ManualClock: Sendable {
    let now = Atomic<UInt32>(0)
    var clock: ReadStatesClock {
        ReadStatesClock { [self] in now.load(ordering: .relaxed) }
    }
}

extension Array where Element == ReadState {
    func sortedByChannel() -> [ReadState] {
        sorted { $0.channelID < $1.channelID }
    }
}
