/// Errors the transport reports to its caller. A struct around a private code, so new
/// cases do not break anyone who switches over the public surface.
public struct TransportError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case listenFailed(host: String, port: Int)
        case clientContextFailed
        case badURL(String, reason: String)
    }

    private let code: Code

    package static func listenFailed(host: String, port: Int) -> TransportError {
        TransportError(code: .listenFailed(host: host, port: port))
    }

    static let clientContextFailed = TransportError(code: .clientContextFailed)

    static func badURL(_ url: String, reason: String) -> TransportError {
        TransportError(code: .badURL(url, reason: reason))
    }

    public var description: String {
        switch code {
        case let .listenFailed(host, port):
            "could not listen on \(host):\(port) (address in use, or not an address of this machine)"
        case .clientContextFailed:
            "libwebsockets could not create a client context"
        case let .badURL(url, reason):
            "bad URL \(url): \(reason)"
        }
    }
}
