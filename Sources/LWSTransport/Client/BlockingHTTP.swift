import Foundation

/// A minimal HTTP/1.1 client over a plain socket: one request per connection
/// (`Connection: close`), the response read until its `Content-Length` is complete.
/// Enough for the load generator's setup calls and the tests; not for the hot path.
/// `package`: the tools and tests of this package use it; it is no part of the
/// Gateway library's API.
package enum BlockingHTTP {
    package struct Response: Sendable {
        package var status: Int
        package var body: String
    }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    package static func request(
        host: String = "127.0.0.1",
        port: Int32,
        _ method: String,
        _ path: String,
        headers: [String: String] = [:],
        body: String = "",
        timeoutSeconds: Int = 20
    ) throws(Failure) -> Response {
        guard let fd = LoopbackSocket.connect(host: host, port: port) else {
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw Failure(description: "send to \(host):\(port) failed")
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
            if let response = parse(received) { return response }
        }
        guard let response = parse(received) else {
            throw Failure(description: "no complete HTTP response: \(String(decoding: received, as: UTF8.self))")
        }
        return response
    }

    /// A complete response (headers and Content-Length bytes of body), or nil.
    private static func parse(_ bytes: [UInt8]) -> Response? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<split.lowerBound]
        let body = String(text[split.upperBound...])
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let length = head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        if let length, body.utf8.count < length { return nil }
        return Response(status: status, body: body)
    }
}
