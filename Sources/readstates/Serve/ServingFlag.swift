import Synchronization

/// A Bool that several parts read and one sets: whether the HTTP routes serve, whether
/// the final write succeeded. (An `Atomic` cannot be captured by a closure or a task.)
final class ServingFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var value: Bool {
        get { flag.load(ordering: .acquiring) }
        set { flag.store(newValue, ordering: .releasing) }
    }
}
