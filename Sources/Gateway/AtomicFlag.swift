import Synchronization

/// A Bool that several parts read and one sets (whether the HTTP routes serve, whether a
/// write succeeded). A class: an `Atomic` cannot be captured by a closure or a task.
public final class AtomicFlag: Sendable {
    private let flag: Atomic<Bool>

    public init() {
        flag = Atomic(false)
    }

    public var value: Bool {
        get { flag.load(ordering: .acquiring) }
        set { flag.store(newValue, ordering: .releasing) }
    }
}
