public import Foundation
public import PostgresNIO

/// A parsed `postgres://` (or `postgresql://`) URL, as libpq spells it:
/// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
/// Without `sslmode`, TLS is preferred (used when the server offers it), as in libpq.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    public var tls: PostgresClient.Configuration.TLS
    private var sslMode: String

    public init(_ text: String) throws(PostgresStoreError) {
        guard let components = URLComponents(string: text) else {
            throw .invalidURL("not a URL")
        }
        guard components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw .invalidURL("the scheme must be postgres://")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidURL("no host") }
        guard let user = components.user, !user.isEmpty else { throw .invalidURL("no user name") }
        if let port = components.port, !(1...65_535).contains(port) { throw .invalidURL("the port must be from 1 to 65535") }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        switch sslMode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw .invalidURL("unknown sslmode '\(sslMode)'")
        }
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database ?? "")?sslmode=\(sslMode)"
    }
}
