public import Snowflake

/// Where the cache loads users from and hands evicted dirty states to.
///
/// The write-behind layer implements this over a database; ``InMemoryReadStatesPersistence``
/// implements it over a dictionary for tests and benchmarks.
///
/// ## Threading
/// `evicted` is called from whichever thread caused the eviction, while it still holds
/// the lock of the shard the user was in: until it returns, no one can miss on that
/// user and load it, so a reload always sees the evicted states. It must be quick and
/// must not block or call back into the cache (queue the write, do not perform it).
public protocol ReadStatesPersistence: Sendable {
    /// All of a user's stored read states (empty for a user with none).
    func load(user: Snowflake) async throws -> [ReadState]
    /// The dirty states of a user the cache just dropped. Must be visible to a `load`
    /// that starts after this call returns, even before they reach the database.
    func evicted(user: Snowflake, dirtyStates: [ReadState])
}
