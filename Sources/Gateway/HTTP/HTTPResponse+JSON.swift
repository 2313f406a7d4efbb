import Foundation
public import LWSTransport

/// The gateway's JSON answers.
extension HTTPResponse {
    /// A JSON body; snake_case keys, Snowflakes as strings (their own encoding).
    public static func json(_ value: some Encodable, status: Int = 200) -> HTTPResponse {
        let body = (try? GatewayJSON.encoder.encode(value)) ?? Data("{}".utf8)
        return HTTPResponse(status: status, contentType: "application/json", body: Array(body))
    }

    /// An error in Discord's shape: `{"code": status, "message": "..."}`.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(ErrorBody(code: status, message: message), status: status)
    }

    /// A request refused as REQUEST_ERROR refuses it on the socket, with its HTTP status.
    static func refused(_ error: RequestError) -> HTTPResponse {
        .error(error.httpStatus, error.message)
    }

    private struct ErrorBody: Encodable {
        var code: Int
        var message: String
    }
}
