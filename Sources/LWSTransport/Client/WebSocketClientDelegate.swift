/// What a ``WebSocketClient`` tells its owner. Every method runs on the client's
/// service thread, where the owner may call ``ClientConnections`` freely.
public protocol WebSocketClientDelegate: AnyObject {
    /// The WebSocket handshake completed.
    func opened(_ connection: Int, client: ClientConnections)
    /// One complete text message.
    func received(_ message: [UInt8], on connection: Int, client: ClientConnections)
    /// The connection is gone, or never opened. Called once per connection while the
    /// client runs; connections still open when it stops are closed without a call.
    func closed(_ connection: Int, _ reason: ClientCloseReason, client: ClientConnections)
    /// Runs every `tickInterval` of the client (when it has one), on the service thread.
    func tick(client: ClientConnections)
}

/// Why a client connection ended.
public enum ClientCloseReason: Sendable, Equatable, CustomStringConvertible {
    /// The server sent a close frame.
    case peer(code: UInt16, reason: String)
    /// The socket ended without a close frame (server died, network dropped it).
    case dropped
    /// We closed it (``ClientConnections/close(_:code:reason:)`` or the client stopping).
    case local
    /// TCP, TLS or the WebSocket handshake failed.
    case connectFailed(String)

    /// The peer's close code, when it sent one.
    public var code: UInt16? {
        if case .peer(let code, _) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .peer(let code, let reason): reason.isEmpty ? "closed by the server (\(code))" : "closed by the server (\(code) \(reason))"
        case .dropped: "the connection dropped"
        case .local: "closed"
        case .connectFailed(let reason): "could not connect: \(reason)"
        }
    }
}
