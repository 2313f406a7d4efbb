import LWSTransport

/// What a client asks for in the gateway URL's query, as Discord's clients send it:
/// `/gateway?v=10&encoding=json&compress=zlib-stream`.
public struct GatewayConnectOptions: Sendable, Equatable {
    public enum Compression: Sendable, Equatable {
        /// One zlib stream per connection for everything the server sends, each payload
        /// sync-flushed and sent as a binary message.
        case zlibStream
    }

    public var compression: Compression?

    /// Options we cannot honour: the connection is closed with 4002 (decode error)
    /// rather than served in a form the client cannot read.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case compression(String)
        case encoding(String)

        public var description: String {
            switch self {
            case .compression(let value): "compress=\(value) is not supported (zlib-stream is)"
            case .encoding(let value): "encoding=\(value) is not supported (json is)"
            }
        }
    }

    public init(compression: Compression? = nil) {
        self.compression = compression
    }

    /// Parses a query string (without `?`); unknown arguments (`v`, …) are ignored.
    public init(query: String?) throws(Refusal) {
        for (name, value) in HTTPRequest.arguments(of: query) {
            switch name {
            case "compress":
                guard value == "zlib-stream" else { throw .compression(String(value.prefix(40))) }
                compression = .zlibStream
            case "encoding":
                guard value == "json" else { throw .encoding(String(value.prefix(40))) }
            default:
                continue
            }
        }
    }
}
