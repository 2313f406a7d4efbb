import LWSTransport
import Foundation
import Gateway

/// HTTP requests from tests: ``BlockingHTTP`` on 127.0.0.1, off the task pool and with
/// a deadline, with the body as JSON at hand.
public enum RawHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: String

        /// The body as a JSON object.
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    public static func request(
        port: Int32,
        _ method: String,
        _ path: String,
        headers: [String: String] = [:],
        body: String = ""
    ) async throws -> Response {
        let response = try await blocking("\(method) \(path) on port \(port)", within: 30) {
            try BlockingHTTP.request(port: port, method, path, headers: headers, body: body)
        }
        return Response(status: response.status, body: response.body)
    }
}
