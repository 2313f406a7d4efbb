public import Logging
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
/// ## While the store is down
/// Failed writes stay in `pending` and are retried. `pending` is bounded by
/// `maximumPending`: past it, rounds stop taking dirty states out of the cache, where
/// they stay (the cache is bounded by its capacity) until the store is back. Evictions
/// still add to `pending`, which cannot grow far that way: a user enters the cache
/// only after a successful load, so with the store down nothing new is loaded and
/// nothing is evicted. Nothing is dropped; `statistics` and a log line report it.
///
/// ## Threading
/// `evicted` only records (no I/O: it is called on whichever thread evicted). All
/// store I/O happens in ``flush(from:everything:)``, never on the gateway's event loop
/// and never under a cache shard's lock. Within ``run(engine:interval:)`` each store
/// write runs on a thread of its own at a lower CPU priority (``LowPriorityExecutor``),
/// so writing (for SQLite: B-tree updates, WAL writes, checkpoints) uses the CPU the
/// serving threads leave; collecting and confirming, which take locks serving threads
/// wait for, stay at normal priority.
public final class WriteBehind: ReadStatesPersistence {
    public let store: any ReadStatesStore
    /// Seconds between a state's first unflushed change and its write.
    public let delay: UInt32
    /// Rows per store write.
    public let batchSize: Int
    /// States held for the store past which dirty states are left in the cache (it
    /// may be passed by one collection slice).
    public let maximumPending: Int
    /// Blocks (each a user's record, or a later block of one) of each shard scanned
    /// under one hold of the shard's lock.
    public let usersPerSlice: Int
    /// The nice value of the thread store writes run on (see ``LowPriorityExecutor``).
    public let flusherNice: Int32
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let counters = Mutex(Counters())

    private struct Pending {
        var states = ReadStatesByUser()
        var count = 0
    }

    public struct Counters: Sendable, Equatable {
        public var batchesWritten = 0
        public var rowsWritten = 0
        public var failedWrites = 0
        /// Rounds that left dirty states in the cache because `pending` was full.
        public var deferredRounds = 0
        /// States waiting for the store now.
        public var pendingStates = 0
    }

    public init(
        store: any ReadStatesStore,
        delay: UInt32 = 30,
        batchSize: Int = 1000,
        maximumPending: Int = 1_000_000,
        usersPerSlice: Int = 256,
        flusherNice: Int32 = 10,
        logger: Logger = Logger(label: "readstates.write-behind")
    ) {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(maximumPending > 0 && usersPerSlice > 0, "bounds must be positive")
        self.store = store
        self.delay = delay
        self.batchSize = batchSize
        self.maximumPending = maximumPending
        self.usersPerSlice = usersPerSlice
        self.flusherNice = flusherNice
        // Reserved up front: a dictionary of a million users rehashing under the lock
        // would stall every eviction behind it.
        pending.withLock { $0.states.reserveCapacity(min(maximumPending, 1 << 20)) }
        self.logger = logger
    }

    public func load(user: Snowflake) async throws -> [ReadState] {
        // Taken before the store is read: a pending state confirmed (and dropped from
        // `pending`) while the store read runs is then in one of the two.
        guard var merged = pending.withLock({ $0.states[user] }) else { return try await store.load(user: user) }
        for state in try await store.load(user: user) { merged.keepNewer(state) }
        return Array(merged.values)
    }

    public func evicted(user: Snowflake, dirtyStates: [ReadState]) {
        guard !dirtyStates.isEmpty else { return }
        hold(dirtyStates.map { UserReadState(userID: user, state: $0) })
    }

    /// States waiting for the store.
    public var pendingCount: Int {
        pending.withLock { $0.count }
    }

    public var statistics: Counters {
        var statistics = counters.withLock { $0 }
        statistics.pendingStates = pendingCount
        return statistics
    }

    /// Keeps states until the store confirms them; a newer version replaces an older one.
    private func hold(_ states: [UserReadState]) {
        // In chunks: `evicted` runs on the engine's callers and takes this lock too.
        var start = 0
        while start < states.count {
            let end = min(start + Self.statesPerLockHold, states.count)
            pending.withLock { pending in
                for item in states[start..<end] where pending.states.keepNewer(item.state, of: item.userID) {
                    pending.count += 1
                }
            }
            start = end
        }
    }

    /// Most states added to or confirmed out of `pending` under one hold of its lock.
    private static let statesPerLockHold = 250

    /// One round: takes from `engine` the dirty states at least `delay` seconds old (all
    /// of them when `everything`, for shutdown), then writes everything pending in
    /// batches. A failed batch stays pending for the next round.
    /// - Returns: rows written in this round.
    @discardableResult
    public func flush(from engine: ReadStates, everything: Bool = false) async throws -> Int {
        try await flush(from: engine, everything: everything, writingOn: nil)
    }

    /// ``flush(from:everything:)`` with each store write run on `executor` (nil: where
    /// the caller runs).
    private func flush(from engine: ReadStates, everything: Bool, writingOn executor: LowPriorityExecutor?) async throws -> Int {
        var cursors: [Int] = []
        if !everything, pendingCount >= maximumPending {
            counters.withLock { $0.deferredRounds += 1 }
            logger.warning(
                "write-behind: pending states at their bound; dirty states stay in the cache until the store catches up",
                metadata: ["pending": "\(pendingCount)", "bound": "\(maximumPending)"]
            )
            return try await writePending(on: executor)
        }
        while true {
            // Each call holds each shard's lock for one slice of blocks only.
            let (states, complete) = engine.collectDirty(
                now: engine.clock.seconds(),
                age: everything ? 0 : delay,
                cursors: &cursors,
                usersPerShard: usersPerSlice
            )
            hold(states)
            if complete || (!everything && pendingCount >= maximumPending) { break }
        }
        return try await writePending(on: executor)
    }

    /// Writes what is pending, a batch at a time; each batch is copied out under one
    /// short hold of the lock (never the whole map at once). A state that got a newer
    /// version while its batch was written stays and goes in a later batch; the round
    /// ends after as many rows as were pending when it began.
    private func writePending(on executor: LowPriorityExecutor?) async throws -> Int {
        let budget = pendingCount
        var written = 0
        while written < budget {
            let batch: [UserReadState] = pending.withLock { pending in
                var batch: [UserReadState] = []
                batch.reserveCapacity(min(batchSize, pending.count))
                for (user, channels) in pending.states {
                    for state in channels.values {
                        batch.append(UserReadState(userID: user, state: state))
                        if batch.count == batchSize { return batch }
                    }
                }
                return batch
            }
            if batch.isEmpty { break }
            do {
                // On the low-priority thread when `run` flushes (see above).
                try await withTaskExecutorPreference(executor) { try await store.write(batch) }
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
        }
        return written
    }

    /// Drops written states from `pending`, unless a newer version arrived meanwhile.
    private func confirm(_ batch: [UserReadState]) {
        // In chunks, like `hold`: evictions on serving threads wait for this lock.
        var start = 0
        while start < batch.count {
            let end = min(start + Self.statesPerLockHold, batch.count)
            pending.withLock { pending in
                for item in batch[start..<end] {
                    guard let held = pending.states[item.userID]?[item.state.channelID], held.version <= item.state.version
                    else { continue }
                    pending.states[item.userID]?[item.state.channelID] = nil
                    pending.count -= 1
                    if pending.states[item.userID]?.isEmpty == true { pending.states[item.userID] = nil }
                }
            }
            start = end
        }
    }
}

extension WriteBehind {
    /// The flusher loop: a round every `interval` until the task is cancelled, backing
    /// off (doubling, up to 30 s) while the store fails. Data stays pending meanwhile;
    /// ``statistics`` counts the failures. Ends, once cancelled, with a round that
    /// writes everything (and throws if that fails: the caller decides how to exit).
    /// A failure is logged when an outage starts, and again when it ends.
    public func run(engine: ReadStates, interval: Duration = .seconds(1)) async throws {
        let executor = LowPriorityExecutor(name: "write-behind", nice: flusherNice)
        defer { executor.stop() }
        var wait = interval
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: wait)
            do {
                try await flush(from: engine, everything: false, writingOn: executor)
                if failing {
                    logger.notice("write-behind: store writes succeed again", metadata: ["pending": "\(pendingCount)"])
                }
                failing = false
                wait = interval
            } catch {
                // Cancelled mid-write (shutdown): the final flush below retries it.
                if Task.isCancelled { break }
                if !failing {
                    logger.error(
                        "write-behind: store write failed; states stay in memory and are retried",
                        metadata: ["error": "\(error)", "pending": "\(pendingCount)"]
                    )
                }
                failing = true
                wait = min(wait * 2, .seconds(30))
            }
        }
        // The final flush runs in a task of its own: this one is cancelled, and the
        // stores' I/O would stop at once in a cancelled task.
        _ = try await Task { try await self.flush(from: engine, everything: true, writingOn: executor) }.value
    }
}
