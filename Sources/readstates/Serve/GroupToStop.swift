import ServiceLifecycle

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
