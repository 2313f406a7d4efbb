/// Whether the changes clients were told of are all still in the store.
///
/// A client that reconnects says which read-state version it has seen, and gets only
/// the changes after it (a partial READY). That is sound only if the store still holds
/// everything up to that version: after a crash, changes younger than the flush delay
/// are gone, the user's version counter restarts from the highest stored version, and
/// new changes would reuse version numbers the client already saw. The store therefore
/// keeps a *generation*: it stays the same across runs that end with every change
/// written (``endServing()``), and moves on when a run did not (it crashed, or its final
/// write failed). Versions sent to clients carry it, and a client from another
/// generation gets the full set.
///
/// The first generation of a store is random, so that a version from another store
/// (another deployment) is almost never taken for one of ours.
public protocol ServingHistory: Sendable {
    /// A serving run starts: the store's generation, a new one if the last run did not
    /// end with ``endServing()``.
    func beginServing() async throws -> UInt32
    /// The run ends with every change written.
    func endServing() async throws
}

/// Generations stay below 2^21, so that generation << 32 | version stays an exact
/// JavaScript number (2^53).
public enum ServingGeneration {
    public static let limit: UInt32 = 1 << 21

    /// A new store's first generation.
    public static func random() -> UInt32 {
        UInt32.random(in: 1..<limit)
    }

    /// The generation after `generation` (1 after the last).
    public static func next(after generation: UInt32) -> UInt32 {
        generation &+ 1 >= limit || generation == 0 ? 1 : generation &+ 1
    }

    /// The generation to serve with, given the stored one and whether a run was still
    /// marked as serving.
    public static func begin(stored: UInt32?, wasServing: Bool) -> UInt32 {
        guard let stored, stored > 0, stored < limit else { return random() }
        return wasServing ? next(after: stored) : stored
    }
}
