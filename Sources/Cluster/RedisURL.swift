/// `redis://HOST:PORT[/DB]`: where the cluster's Redis is.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int32
    public var database: Int

    public init(host: String, port: Int32 = 6379, database: Int = 0) {
        self.host = host
        self.port = port
        self.database = database
    }

    /// - Throws: ``ClusterError/badRedisURL(_:)`` for anything but `redis://HOST[:PORT][/DB]`.
    public init(parsing text: String) throws(ClusterError) {
        guard text.hasPrefix("redis://") else { throw .badRedisURL(text) }
        var rest = text.dropFirst("redis://".count)
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let number = Int(path), (0...15).contains(number) else { throw .badRedisURL(text) }
                database = number
            }
            rest = rest[..<slash]
        }
        var host = Substring(rest)
        var port: Int32 = 6379
        if let colon = rest.lastIndex(of: ":") {
            guard let number = Int32(rest[rest.index(after: colon)...]), (1...65_535).contains(number) else { throw .badRedisURL(text) }
            port = number
            host = rest[..<colon]
        }
        guard !host.isEmpty, !host.contains("@") else { throw .badRedisURL(text) }
        self.init(host: String(host), port: port, database: database)
    }

    public var description: String { "redis://\(host):\(port)/\(database)" }

    /// What a cluster on this URL starts its keys and channels with: pub/sub channels
    /// are shared by every database of a server, so the database is in the name.
    public var keyPrefix: String { database == 0 ? "readstates" : "readstates:db\(database)" }
}
