/// Errors of the PostgreSQL store that postgres-nio does not already describe.
public enum PostgresStoreError: Error, Equatable, CustomStringConvertible {
    /// The URL given with `--postgres-url` cannot be used; the text says why.
    case invalidURL(String)
    /// The server did not answer within the configured time (down, or overloaded).
    case timedOut(Duration)

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid PostgreSQL URL: \(reason)"
        case .timedOut(let duration): "PostgreSQL did not answer within \(duration)"
        }
    }
}
