import Snowflake

/// Errors of the read-state engine: a struct around a private code, so new cases do
/// not break callers.
public struct ReadStatesError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case userExceedsShardCapacity(user: Snowflake, capacity: Int)
    }

    private let code: Code

    /// One user holds more read states than a whole cache shard can: raise
    /// `--cache-capacity` or lower the shard count.
    static func userExceedsShardCapacity(user: Snowflake, capacity: Int) -> ReadStatesError {
        ReadStatesError(code: .userExceedsShardCapacity(user: user, capacity: capacity))
    }

    public var description: String {
        switch code {
        case let .userExceedsShardCapacity(user, capacity):
            "user \(user) needs more read states than one cache shard holds (\(capacity))"
        }
    }
}
