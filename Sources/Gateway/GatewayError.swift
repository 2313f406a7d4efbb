/// Errors the gateway reports to its caller. A struct around a private code, so new
/// cases do not break anyone who switches over the public surface.
public struct GatewayError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case listenFailed(host: String, port: Int)
        case clientContextFailed
        case badURL(String, reason: String)
        case webClientMissing(String)
    }

    private let code: Code

    static func listenFailed(host: String, port: Int) -> GatewayError {
        GatewayError(code: .listenFailed(host: host, port: port))
    }

    static let clientContextFailed = GatewayError(code: .clientContextFailed)

    static func badURL(_ url: String, reason: String) -> GatewayError {
        GatewayError(code: .badURL(url, reason: reason))
    }

    static func webClientMissing(_ what: String) -> GatewayError {
        GatewayError(code: .webClientMissing(what))
    }

    public var description: String {
        switch code {
        case let .listenFailed(host, port):
            "could not listen on \(host):\(port) (address in use, or not an address of this machine)"
        case .clientContextFailed:
            "libwebsockets could not create a client context"
        case let .badURL(url, reason):
            "bad URL \(url): \(reason)"
        case let .webClientMissing(what):
            "the web client is not there: no \(what)"
        }
    }
}
