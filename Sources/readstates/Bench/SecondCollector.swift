import Histogram
import Synchronization

/// Gathers each worker thread's histogram for each second and releases a second's
/// merged figures once every worker has handed it in.
final class SecondCollector: Sendable {
    struct Second {
        var histogram = Histogram<UInt64>(highestTrackableValue: 100_000_000_000)
        var operations = 0
        var reports = 0
    }

    private let workers: Int
    private let pending = Mutex<[Int: Second]>([:])

    init(workers: Int) {
        self.workers = workers
    }

    /// A worker's figures for one second. The merge happens here, on the worker, so the
    /// worker can reset its histogram without a copy-on-write copy.
    func submit(second: Int, histogram: Histogram<UInt64>, operations: Int) {
        pending.withLock { pending in
            pending[second, default: Second()].histogram.add(histogram)
            pending[second, default: Second()].operations += operations
            pending[second, default: Second()].reports += 1
        }
    }

    /// The seconds every worker has reported, oldest first, removed from the collector.
    func takeComplete() -> [(second: Int, figures: Second)] {
        pending.withLock { pending in
            let ready = pending.filter { $0.value.reports == workers }.sorted { $0.key < $1.key }
            for (second, _) in ready { pending[second] = nil }
            return ready.map { ($0.key, $0.value) }
        }
    }
}
