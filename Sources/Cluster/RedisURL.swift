import Foundation

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

    /// - Throws: ``ClusterError/badRedisURL(_:)`` for anything but `redis://HOST[:PORT][/DB]`
    ///   (an IPv6 host in brackets: `redis://[::1]:6379`).
    public init(parsing text: String) throws(ClusterError) {
        // Foundation's parser, as PostgresURL uses: splitting on the last `:` took the
        // brackets of an IPv6 host into its name.
        guard let components = URLComponents(string: text), components.scheme == "redis",
            var host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.query == nil, components.fragment == nil
        else { throw .badRedisURL(text) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var port: Int32 = 6379
        if let given = components.port {
            guard (1...65_535).contains(given) else { throw .badRedisURL(text) }
            port = Int32(given)
        }
        var database = 0
        if components.path.count > 1 {
            guard components.path.hasPrefix("/"), let number = Int(components.path.dropFirst()), (0...15).contains(number) else {
                throw .badRedisURL(text)
            }
            database = number
        }
        self.init(host: host, port: port, database: database)
    }

    public var description: String { "redis://\(host):\(port)/\(database)" }

    /// What a cluster on this URL starts its keys and channels with: pub/sub channels
    /// are shared by every database of a server, so the database is in the name.
    public var keyPrefix: String { database == 0 ? "readstates" : "readstates:db\(database)" }
}
