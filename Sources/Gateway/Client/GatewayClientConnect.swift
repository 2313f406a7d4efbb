public import LWSTransport

extension WebSocketEndpoint {
    /// What the path's query asks of a gateway (`?compress=zlib-stream`); nil for an
    /// unknown option, which the server refuses.
    public var compression: GatewayConnectOptions.Compression? {
        let query = path.firstIndex(of: "?").map { String(path[path.index(after: $0)...]) }
        return (try? GatewayConnectOptions(query: query))?.compression
    }
}

extension ZlibStreamInflater: MessageDecoder {
    public func decode(_ message: [UInt8]) throws -> [UInt8]? {
        try push(message)
    }
}

extension ClientConnections {
    /// Connects to a gateway: with a zlib-stream inflater when the endpoint's query
    /// asks for `compress=zlib-stream` (the server's messages are then binary).
    @discardableResult
    public func connect(toGateway endpoint: WebSocketEndpoint) -> Int {
        connect(to: endpoint) { endpoint.compression == .zlibStream ? try ZlibStreamInflater() : nil }
    }
}
