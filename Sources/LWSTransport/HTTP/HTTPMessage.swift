import Foundation

/// An HTTP request as the transport hands it over: the parts our routes read.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query string.
    public var path: String
    /// The query string (after `?`, arguments joined by `&`), if any.
    public var query: String?
    public var authorization: String?
    /// `If-None-Match`: the ETag of the copy the client has.
    public var ifNoneMatch: String?
    public var body: [UInt8]

    public init(
        method: String, path: String, query: String? = nil, authorization: String? = nil, ifNoneMatch: String? = nil, body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.authorization = authorization
        self.ifNoneMatch = ifNoneMatch
        self.body = body
    }
}

extension HTTPRequest {
    /// The value of the query argument `name` (the first, if repeated); nil when absent.
    public func queryArgument(_ name: String) -> Substring? {
        Self.arguments(of: query).first { $0.name == name }?.value
    }

    /// A query string's `name=value` arguments, in order (`name` alone: an empty value).
    public static func arguments(of query: String?) -> [(name: Substring, value: Substring)] {
        guard let query else { return [] }
        return query.split(separator: "&").map { argument in
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : "")
        }
    }

    /// Percent-decoded (`%26` is a `&` inside a value); as it is when that fails.
    private static func decoded(_ part: Substring) -> Substring {
        guard part.contains("%"), let text = part.removingPercentEncoding else { return part }
        return Substring(text)
    }
}

/// A response header beyond the status, type and length the transport always writes.
public struct HTTPHeader: Sendable, Equatable {
    /// Lower case, as HTTP/2 wants and HTTP/1.1 accepts.
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, contentType: String, headers: [HTTPHeader] = [], body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }
}
