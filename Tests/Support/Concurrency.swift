import Synchronization

/// How often consecutive operations of a concurrent test came from different workers.
///
/// A race test proves something only if its workers really overlapped: on a quiet
/// machine the pool may run them one after another. Run one after another, N workers
/// switch N - 1 times; a count above that shows that operations of different workers
/// alternated while both were running.
public final class Interleavings: Sendable {
    private let last = Atomic<Int>(-1)
    private let switches = Atomic<Int>(0)

    public init() {}

    /// Called by `worker` before each of its operations.
    public func record(_ worker: Int) {
        let previous = last.exchange(worker, ordering: .relaxed)
        if previous != -1 && previous != worker { switches.add(1, ordering: .relaxed) }
    }

    public var count: Int { switches.load(ordering: .relaxed) }
}

/// Holds tasks until `count` of them have arrived, so that they start together.
public final class StartLine: Sendable {
    public let count: Int
    private let arrived = Atomic<Int>(0)

    public init(count: Int) {
        self.count = count
    }

    /// Returns once every task has arrived; throws after `seconds`. It yields rather
    /// than sleeps while it waits (the pool runs the others meanwhile), so the tasks
    /// leave the line together instead of one timer wake-up apart.
    public func arriveAndWait(seconds: Double = 30) async throws {
        arrived.add(1, ordering: .acquiringAndReleasing)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while arrived.load(ordering: .acquiring) < count {
            guard ContinuousClock.now < deadline else {
                throw DeadlineExceeded(what: "\(count) tasks at the start line", seconds: seconds)
            }
            await Task.yield()
        }
    }
}

/// A Bool that tasks share (a local `Atomic` cannot be captured by a task's closure).
public final class SharedFlag: Sendable {
    private let flag: Atomic<Bool>

    public init(_ value: Bool) {
        flag = Atomic(value)
    }

    public var value: Bool { flag.load(ordering: .acquiring) }

    public func set(_ value: Bool) {
        flag.store(value, ordering: .releasing)
    }
}
