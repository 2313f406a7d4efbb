import CHiredis
import Foundation
import Synchronization

/// A thread of its own running a libev loop, on which the hiredis connections live:
/// their replies, pub/sub messages and timers all run here, one at a time, so the
/// cluster's state needs no lock. Other threads hand it work with ``perform(_:)``.
final class RedisLoop: @unchecked Sendable {
    /// Touched only on the loop's thread.
    let loop: OpaquePointer
    private let wakers: UnsafeMutablePointer<CHiredis_Wakers>
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// Runs after every round of the loop (at least every `tick`): deadlines.
    var onRound: () -> Void = {}

    /// - Parameter tick: how often a round runs when nothing else happens, in seconds.
    init(tick: Double = 0.05) {
        loop = CHiredis_newLoop()
        wakers = CHiredis_startWakers(loop, tick)
    }

    func start(name: String) {
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                CHiredis_runOnce(loop)
                drain()
                onRound()
            }
            drain()
            finished.signal()
        }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// Runs `job` on the loop's thread, soon (in order with other jobs).
    func perform(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        CHiredis_wake(loop, wakers)
    }

    private func drain() {
        while true {
            let batch = jobs.withLock { jobs -> [@Sendable () -> Void] in
                defer { jobs.removeAll(keepingCapacity: true) }
                return jobs
            }
            if batch.isEmpty { return }
            for job in batch { job() }
        }
    }

    /// Ends the loop after the jobs already handed over; returns once it has.
    /// Once: a second call returns at once.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        CHiredis_wake(loop, wakers)
        if thread != nil { finished.wait() }
    }
}
