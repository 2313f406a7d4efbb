import Foundation

/// Where a WebSocket client connects: parsed from `ws://host[:port]/path` or
/// `wss://…`.
public struct WebSocketEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var path: String
    public var tls: Bool
    /// wss only: accept a self-signed certificate (for trying things out locally).
    public var allowSelfSigned = false

    /// The same endpoint with `argument` (`name=value`) added to the path's query.
    public func addingQueryArgument(_ argument: String) -> WebSocketEndpoint {
        var endpoint = self
        endpoint.path += (path.contains("?") ? "&" : "?") + argument
        return endpoint
    }

    public init(host: String, port: Int, path: String = "/gateway", tls: Bool = false) {
        self.host = host
        self.port = port
        self.path = path
        self.tls = tls
    }

    /// - Throws: ``TransportError`` naming what is wrong with the URL.
    public init(url: String) throws(TransportError) {
        let scheme: Substring
        let rest: Substring
        if let range = url.range(of: "://") {
            scheme = url[..<range.lowerBound]
            rest = url[range.upperBound...]
        } else {
            throw .badURL(url, reason: "expected ws://host:port/path or wss://…")
        }
        switch scheme.lowercased() {
        case "ws": tls = false
        case "wss": tls = true
        default: throw .badURL(url, reason: "the scheme must be ws or wss")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let remainder = rest.dropFirst(authority.count)
        path = remainder.isEmpty ? "/" : String(remainder)
        guard !authority.isEmpty else { throw .badURL(url, reason: "no host") }
        if authority.hasPrefix("[") {
            // An IPv6 literal: [::1]:8080
            guard let close = authority.firstIndex(of: "]") else { throw .badURL(url, reason: "unclosed [") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            port = try Self.port(after, url: url, tls: tls)
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = try Self.port(authority[colon...], url: url, tls: tls)
        } else {
            host = String(authority)
            port = tls ? 443 : 80
        }
        guard !host.isEmpty else { throw .badURL(url, reason: "no host") }
    }

    /// `:8080` → 8080; empty → the scheme's default.
    private static func port(_ text: Substring, url: String, tls: Bool) throws(TransportError) -> Int {
        if text.isEmpty { return tls ? 443 : 80 }
        guard text.first == ":", let port = Int(text.dropFirst()), (1...65_535).contains(port) else {
            throw .badURL(url, reason: "the port must be 1 to 65535")
        }
        return port
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "wss" : "ws")://\(shownHost):\(port)\(path)"
    }
}
