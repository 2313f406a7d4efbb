/// Errors the gateway reports to its caller (the transport's own are
/// `TransportError`). A struct around a private code, so new cases do not break
/// anyone who switches over the public surface.
public struct GatewayError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case webClientMissing(String)
    }

    private let code: Code

    static func webClientMissing(_ what: String) -> GatewayError {
        GatewayError(code: .webClientMissing(what))
    }

    public var description: String {
        switch code {
        case let .webClientMissing(what):
            "the web client is not there: no \(what)"
        }
    }
}
