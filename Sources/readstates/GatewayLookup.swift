import Foundation
import LWSTransport

/// `GET /api/gateway` before connecting: in a cluster, the node that owns the user's
/// read states, so the session lands there and its READY and acks skip a hop. Any node
/// answers; on one node it names itself.
enum GatewayLookup {
    /// The gateway `token`'s user should connect to, asked of the node at `seed`, with
    /// `seed`'s query (compression) and certificate choice; nil when that node does not
    /// answer (it is down, or serves TLS, which this plain HTTP lookup does not speak).
    static func gateway(for token: String, asking seed: WebSocketEndpoint, timeoutSeconds: Int = 3) -> WebSocketEndpoint? {
        guard !seed.tls,
            let response = try? BlockingHTTP.request(
                host: seed.host, port: Int32(seed.port), "GET", "/api/gateway", headers: ["Authorization": token],
                timeoutSeconds: timeoutSeconds
            ),
            response.status == 200,
            let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body.utf8)),
            var endpoint = try? WebSocketEndpoint(url: answer.url)
        else { return nil }
        endpoint.allowSelfSigned = seed.allowSelfSigned
        if let query = seed.path.split(separator: "?", maxSplits: 1).dropFirst().first {
            endpoint = endpoint.addingQueryArgument(String(query))
        }
        return endpoint
    }

    private struct Answer: Decodable {
        var url: String
    }
}
