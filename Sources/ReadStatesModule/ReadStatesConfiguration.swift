/// Sizes of the read-state cache. Everything is reserved up front (virtual memory;
/// pages become resident as they fill), so nothing grows or rehashes while serving.
public struct ReadStatesConfiguration: Sendable {
    /// Read states the cache holds before it evicts the least recently used users.
    public var capacity: Int = 8_000_000
    /// Users the cache tracks at most. Defaults to a quarter of `capacity`: users with
    /// fewer than four read states on average are evicted for lack of user slots first.
    public var maximumUsers: Int?
    /// Independent partitions, each with its own lock and an equal share of the
    /// capacity. More shards mean less contention and less work per eviction.
    public var shards: Int = 64

    public init(capacity: Int = 8_000_000, maximumUsers: Int? = nil, shards: Int = 64) {
        self.capacity = capacity
        self.maximumUsers = maximumUsers
        self.shards = shards
    }

    var resolvedMaximumUsers: Int {
        maximumUsers ?? max(capacity / 4, 1)
    }
}
