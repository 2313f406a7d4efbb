/// The protocol a server's service thread serves, told what happens on the thread's
/// connections. Called on that thread only, from inside libwebsockets callbacks; the
/// handler answers through ``LWSServer`` (a WebSocket's send, close, respond), which never calls
/// back into it from inside those calls.
public protocol LWSServerHandler: AnyObject {
    /// Whether an upgrade request for `uri` (path and query) becomes a WebSocket;
    /// lws refuses the others.
    func acceptsWebSocket(uri: String) -> Bool
    /// A WebSocket opened; `query` is its URL's query string.
    func opened(_ connection: Int, query: String?)
    /// One whole text message.
    func received(_ connection: Int, message: [UInt8])
    /// The peer sent what the transport does not take (a binary message, or one over
    /// ``LWSServer/Configuration/maximumMessageBytes``); the connection stays open
    /// for the handler to close as its protocol says.
    func refused(_ connection: Int)
    /// The WebSocket is gone (closed by either side, or dropped).
    func closed(_ connection: Int)
    /// A whole HTTP request (its body too); answer with ``LWSServer/respond(_:_:)``,
    /// now or later. A body over ``LWSServer/Configuration/maximumBodyBytes`` never
    /// gets here: see ``requestTooLarge(_:limit:)``.
    func request(_ connection: Int, _ request: HTTPRequest)
    /// A request's body is over the limit: answer it (with 413, say).
    func requestTooLarge(_ connection: Int, limit: Int)
}
