internal import CWebsockets

/// One HTTP request in flight on a connection, on the service thread.
final class HTTPConnection {
    let wsi: OpaquePointer
    var request: HTTPRequest
    var expectingBody = false
    /// Set when the answer is ready; written on the next WRITEABLE callback.
    var response: HTTPResponse?
    /// lws may read the bytes handed to `lws_write` after it returns: they live here
    /// until the connection is done.
    private var buffer: [UInt8] = []

    init(wsi: OpaquePointer, request: HTTPRequest) {
        self.wsi = wsi
        self.request = request
    }

    static func method(of wsi: OpaquePointer) -> String {
        let methods: [(lws_token_indexes, String)] = [
            (WSI_TOKEN_GET_URI, "GET"), (WSI_TOKEN_POST_URI, "POST"), (WSI_TOKEN_PUT_URI, "PUT"),
            (WSI_TOKEN_DELETE_URI, "DELETE"), (WSI_TOKEN_PATCH_URI, "PATCH"), (WSI_TOKEN_OPTIONS_URI, "OPTIONS"),
        ]
        return methods.first { lws_hdr_total_length(wsi, $0.0) > 0 }?.1 ?? "OTHER"
    }

    static func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = Int(lws_hdr_total_length(wsi, token))
        guard length > 0, length < 8192 else { return nil }
        var bytes = [CChar](repeating: 0, count: length + 1)
        let copied = Int(lws_hdr_copy(wsi, &bytes, Int32(bytes.count), token))
        guard copied >= 0 else { return nil }
        return String(decoding: bytes.prefix(copied).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The URL's query string: lws keeps each `&`-separated argument as a fragment of
    /// its own, URL-decoded; joined again here with `%` and `&` encoded once more, so
    /// that a value holding `%26` stays one argument (``HTTPRequest/arguments(of:)``
    /// decodes them). Nil when there is none.
    static func query(of wsi: OpaquePointer) -> String? {
        var arguments: [String] = []
        var bytes = [CChar](repeating: 0, count: 1024)
        var index: Int32 = 0
        while arguments.count < 32 {
            let copied = Int(lws_hdr_copy_fragment(wsi, &bytes, Int32(bytes.count), WSI_TOKEN_HTTP_URI_ARGS, index))
            guard copied > 0 else { break }
            let argument = String(decoding: bytes.prefix(copied).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            arguments.append(escaped(argument))
            index += 1
        }
        return arguments.isEmpty ? nil : arguments.joined(separator: "&")
    }

    /// `%` and `&` percent-encoded again; anything else as it is (most arguments have
    /// neither, and come back unchanged).
    private static func escaped(_ argument: String) -> String {
        guard argument.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "&") }) else { return argument }
        var result = ""
        for scalar in argument.unicodeScalars {
            switch scalar {
            case "%": result += "%25"
            case "&": result += "%26"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Where the answer stands: lws wants one write per WRITEABLE callback, so the
    /// headers and the body go out in two.
    enum WriteStep {
        case headers, body, done
    }

    var step = WriteStep.headers

    /// Writes the next part of `response`.
    /// - Returns: false when lws refused a write (the connection is then closed).
    func writeNext(_ response: HTTPResponse) -> Bool {
        let headroom = Int(CWebsockets_LWS_PRE())
        switch step {
        case .headers:
            let space = 1024 + response.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            buffer = [UInt8](repeating: 0, count: headroom + space)
            step = .body
            return buffer.withUnsafeMutableBufferPointer { storage -> Bool in
                let start = storage.baseAddress! + headroom
                let end = start + space
                var cursor: UnsafeMutablePointer<UInt8>? = start
                guard lws_add_http_common_headers(
                    wsi, UInt32(response.status), response.contentType, lws_filepos_t(response.body.count), &cursor, end
                ) == 0 else { return false }
                for header in response.headers {
                    let added = "\(header.name):".withCString { name in
                        Array(header.value.utf8).withUnsafeBufferPointer { value in
                            lws_add_http_header_by_name(
                                wsi, UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), value.baseAddress, Int32(value.count),
                                &cursor, end
                            )
                        }
                    }
                    guard added == 0 else { return false }
                }
                return lws_finalize_write_http_header(wsi, start, &cursor, end) == 0
            }
        case .body:
            buffer = [UInt8](repeating: 0, count: headroom) + response.body
            step = .done
            return buffer.withUnsafeMutableBufferPointer { storage in
                lws_write(wsi, storage.baseAddress! + headroom, response.body.count, LWS_WRITE_HTTP_FINAL) >= 0
            }
        case .done:
            return true
        }
    }
}
