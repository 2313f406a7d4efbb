import ServiceLifecycle
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

/// The service group, for a part that must stop the node before the group exists or
/// while it runs (a stop asked before ``set(_:)`` is kept and honoured then).
actor GroupToStop {
    private var group: ServiceGroup?
    private var stopAsked = false

    func set(_ group: ServiceGroup) async {
        self.group = group
        if stopAsked { await group.triggerGracefulShutdown() }
    }

    func stop() async {
        stopAsked = true
        await group?.triggerGracefulShutdown()
    }
}
