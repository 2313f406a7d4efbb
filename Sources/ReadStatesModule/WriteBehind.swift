public import Snowflake
import Synchronization

/// Write-behind persistence between the cache and a ``ReadStatesStore``: changes reach
/// the store at most `delay` seconds after they were made, many changes of one state
/// coalesce into one write, and evicted dirty states are written at once.
///
/// States handed over (evicted, or collected from the cache because they are old
/// enough) stay in `pending` until the store confirms them. A load overlays `pending`
/// on what the store returns, so a user evicted while dirty and loaded again before
/// the write finished sees the newest data, never the store's older copy.
///
/// ## Threading
/// `evicted` only records (no I/O: it is called on whichever thread evicted). All
/// store I/O happens in ``flush(from:everything:)`` (and ``run(engine:interval:)``), which the caller runs on a task of its own,
/// never on the gateway's event loop and never under a cache shard's lock.
public final class WriteBehind: ReadStatesPersistence {
    public let store: any ReadStatesStore
    /// Seconds between a state's first unflushed change and its write.
    public let delay: UInt32
    /// Rows per store write.
    public let batchSize: Int
    private let pending = Mutex<ReadStatesByUser>([:])
    private let counters = Mutex(Counters())

    public struct Counters: Sendable, Equatable {
        public var batchesWritten = 0
        public var rowsWritten = 0
        public var failedWrites = 0
    }

    public init(store: any ReadStatesStore, delay: UInt32 = 30, batchSize: Int = 1000) {
        precondition(batchSize > 0, "batch size must be positive")
        self.store = store
        self.delay = delay
        self.batchSize = batchSize
    }

    public func load(user: Snowflake) async throws -> [ReadState] {
        // Taken before the store is read: a pending state confirmed (and dropped from
        // `pending`) while the store read runs is then in one of the two.
        guard var merged = pending.withLock({ $0[user] }) else { return try await store.load(user: user) }
        for state in try await store.load(user: user) { merged.keepNewer(state) }
        return Array(merged.values)
    }

    public func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        guard !dirtyStates.isEmpty else { return }
        hold(dirtyStates.map { UserReadState(userID: user, state: $0) })
    }

    /// States waiting for the store.
    public var pendingCount: Int {
        pending.withLock { $0.values.reduce(0) { $0 + $1.count } }
    }

    public var statistics: Counters { counters.withLock { $0 } }

    /// Keeps states until the store confirms them; a newer version replaces an older one.
    private func hold(_ states: [UserReadState]) {
        pending.withLock { pending in
            for item in states { pending.keepNewer(item.state, of: item.userID) }
        }
    }

    /// One round: takes from `engine` the dirty states at least `delay` seconds old (all
    /// of them when `everything`, for shutdown), then writes everything pending in
    /// batches. A failed batch stays pending for the next round.
    /// - Returns: rows written in this round.
    @discardableResult
    public func flush(from engine: ReadStates, everything: Bool = false) async throws -> Int {
        var cursors: [Int] = []
        while true {
            // Each call holds each shard's lock for a slice of 4,096 user records only.
            let (states, complete) = engine.collectDirty(
                now: engine.clock.seconds(),
                age: everything ? 0 : delay,
                cursors: &cursors,
                usersPerShard: 4096
            )
            hold(states)
            if complete { break }
        }
        return try await writePending()
    }

    private func writePending() async throws -> Int {
        let snapshot: [UserReadState] = pending.withLock { pending in
            pending.flatMap { user, channels in channels.values.map { UserReadState(userID: user, state: $0) } }
        }
        var written = 0
        var start = 0
        while start < snapshot.count {
            let batch = Array(snapshot[start..<min(start + batchSize, snapshot.count)])
            do {
                try await store.write(batch)
            } catch {
                counters.withLock { $0.failedWrites += 1 }
                throw error
            }
            confirm(batch)
            written += batch.count
            counters.withLock {
                $0.batchesWritten += 1
                $0.rowsWritten += batch.count
            }
            start += batchSize
        }
        return written
    }

    /// Drops written states from `pending`, unless a newer version arrived meanwhile.
    private func confirm(_ batch: [UserReadState]) {
        pending.withLock { pending in
            for item in batch {
                guard let held = pending[item.userID]?[item.state.channelID], held.version <= item.state.version else {
                    continue
                }
                pending[item.userID]?[item.state.channelID] = nil
                if pending[item.userID]?.isEmpty == true { pending[item.userID] = nil }
            }
        }
    }
}

extension WriteBehind {
    /// The flusher loop: a round every `interval` until the task is cancelled, backing
    /// off (doubling, up to 30 s) while the store fails. Data stays pending meanwhile;
    /// ``statistics`` counts the failures. Ends with a round that writes everything.
    public func run(engine: ReadStates, interval: Duration = .seconds(1)) async throws {
        var wait = interval
        while !Task.isCancelled {
            try? await Task.sleep(for: wait)
            do {
                try await flush(from: engine)
                wait = interval
            } catch {
                wait = min(wait * 2, .seconds(30))
            }
        }
        try await flush(from: engine, everything: true)
    }
}
