public import Snowflake

/// A database of read states, behind the write-behind layer (``WriteBehind``).
///
/// Implementations: ``InMemoryReadStatesPersistence`` here, `SQLiteReadStatesStore` in
/// the ReadStatesSQLite module, `PostgresReadStatesStore` in ReadStatesPostgres.
public protocol ReadStatesStore: Sendable {
    /// All of a user's stored read states, in one query.
    func load(user: Snowflake) async throws -> [ReadState]
    /// Upserts a batch. A stored row whose version is at least the written one is kept,
    /// so a write that lands late never moves a state backwards.
    ///
    /// May block the calling thread for the whole transaction (SQLite's does, so that
    /// its work runs at the caller's priority): ``WriteBehind`` calls it from a thread
    /// of its own.
    func write(_ states: [UserReadState]) async throws
}
