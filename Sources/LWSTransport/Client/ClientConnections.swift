internal import CWebsockets
import Glibc

/// The client's connections, on its service thread: open, send, close. Handed to
/// every ``WebSocketClientDelegate`` call and to work posted with
/// ``WebSocketClient/post(_:)``; not usable from other threads.
public final class ClientConnections {
    /// Largest message accepted from a server (a READY with thousands of states is a
    /// few hundred KiB).
    static let maximumMessageBytes = 16 * 1024 * 1024

    /// Set right after creation: the context needs this object's address as its user
    /// pointer first.
    var context: LWSContext!
    /// The delegate the client was started with (the owner casts it back to its type).
    public let delegate: any WebSocketClientDelegate
    private var sockets: [Int: ClientSocket] = [:]
    private var nextID = 1
    /// Closes to report once the current lws call returns, so a delegate never sees
    /// a callback from inside its own `connect`.
    private var deferredCloses: [(Int, ClientCloseReason)] = []
    private(set) var isFinished = false
    /// Bytes of the messages received, as they came (compressed on zlib-stream
    /// connections): what the network carried, less WebSocket framing.
    public private(set) var bytesReceived = 0

    init(delegate: any WebSocketClientDelegate) {
        self.delegate = delegate
    }

    /// Connections not yet closed (connecting or open).
    public var count: Int { sockets.count }

    /// Starts connecting; ``WebSocketClientDelegate/opened(_:client:)`` or
    /// ``WebSocketClientDelegate/closed(_:_:client:)`` follows.
    /// - Parameter decoder: makes the connection's ``MessageDecoder`` (transport
    ///   compression the server was asked for); when it throws, this connection fails,
    ///   not the client. Without one, a binary message closes the connection (1003):
    ///   a gateway endpoint with `?compress=zlib-stream` goes through the gateway's
    ///   `connect(toGateway:)`, which brings its inflater.
    /// - Returns: the connection's ID.
    @discardableResult
    public func connect(to endpoint: WebSocketEndpoint, decoder: () throws -> (any MessageDecoder)? = { nil }) -> Int {
        let id = nextID
        nextID += 1
        let socket = ClientSocket()
        do {
            socket.decoder = try decoder()
        } catch {
            deferredCloses.append((id, .connectFailed("cannot decode messages from \(endpoint): \(error)")))
            return id
        }
        sockets[id] = socket
        var wsi: OpaquePointer?
        let started = endpoint.host.withCString { host in
            endpoint.path.withCString { path in
                "http".withCString { proto in
                    var info = lws_client_connect_info()
                    info.context = context.pointer
                    info.address = host
                    info.port = Int32(endpoint.port)
                    info.path = path
                    info.host = host
                    info.origin = host
                    info.protocol = nil
                    info.local_protocol_name = proto
                    if endpoint.tls {
                        info.ssl_connection = Int32(LCCSCF_USE_SSL.rawValue)
                        if endpoint.allowSelfSigned {
                            info.ssl_connection |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK.rawValue)
                        }
                    }
                    info.opaque_user_data = UnsafeMutableRawPointer(bitPattern: id)
                    // No validity pings for client connections either (see `LWSContext`).
                    info.retry_and_idle_policy = context.retryAndIdlePolicy
                    return withUnsafeMutablePointer(to: &wsi) { pointer in
                        info.pwsi = pointer
                        return lws_client_connect_via_info(&info) != nil
                    }
                }
            }
        }
        if started {
            socket.wsi = wsi
        } else if sockets.removeValue(forKey: id) != nil {
            deferredCloses.append((id, .connectFailed("cannot connect to \(endpoint)")))
        }
        return id
    }

    public func isOpen(_ id: Int) -> Bool {
        sockets[id]?.isOpen ?? false
    }

    /// Sends a text message (now, or once what is queued before it is out).
    /// - Returns: false when the connection is not open.
    @discardableResult
    public func send(_ message: [UInt8], on id: Int) -> Bool {
        guard let socket = sockets[id], socket.isOpen, socket.closing == nil, let wsi = socket.wsi else { return false }
        socket.outgoing.send(message, to: wsi)
        return true
    }

    /// Sends a close frame after what is queued, then closes.
    public func close(_ id: Int, code: UInt16 = 1000, reason: String = "") {
        guard let socket = sockets[id], socket.closing == nil else { return }
        socket.closing = (code, reason)
        if let wsi = socket.wsi {
            OutgoingFrames.limitClose(of: wsi)
            lws_callback_on_writable(wsi)
        }
    }

    /// Drops the TCP connection without a close frame, as a network failure would.
    public func abort(_ id: Int) {
        guard let wsi = sockets[id]?.wsi else { return }
        shutdown(lws_get_socket_fd(wsi), Int32(SHUT_RDWR))
    }

    /// Ends the client's service loop (``WebSocketClient/wait()`` returns); open
    /// connections are closed.
    public func finish() {
        isFinished = true
        context.wakeHandle.wake()
    }

    // MARK: From the C callback

    func opened(_ id: Int) {
        guard let socket = sockets[id] else { return }
        socket.isOpen = true
        if let wsi = socket.wsi { disableNagle(wsi) }
        delegate.opened(id, client: self)
    }

    func received(_ id: Int, _ chunk: UnsafeRawBufferPointer) -> Int32 {
        guard let socket = sockets[id], let wsi = socket.wsi else { return 0 }
        do {
            let binary = socket.decoder != nil
            guard let message = try socket.incoming.append(chunk, from: wsi, limit: Self.maximumMessageBytes, binary: binary) else { return 0 }
            bytesReceived += message.count
            if let decoder = socket.decoder, socket.incoming.wasBinary {
                // A payload may span several messages: delivered once it is whole.
                guard let payload = try decoder.decode(message) else { return 0 }
                delegate.received(payload, on: id, client: self)
            } else {
                delegate.received(message, on: id, client: self)
            }
            return 0
        } catch {
            // Text frames of bounded size (binary ones that decode, on a connection with a
            // decoder): anything else is a broken peer.
            socket.closing = (1003, "unexpected frame")
            socket.closedForCause = true
            lws_callback_on_writable(wsi)
            return 0
        }
    }

    func writable(_ id: Int) -> Int32 {
        sockets[id]?.writeNext() ?? 0
    }

    func peerClosing(_ id: Int, _ payload: UnsafeRawBufferPointer) {
        guard let socket = sockets[id], payload.count >= 2 else { return }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        socket.peerClose = (code, String(decoding: payload.dropFirst(2), as: UTF8.self))
    }

    func ended(_ id: Int, connectError: String?) {
        guard let socket = sockets.removeValue(forKey: id) else { return }
        let reason: ClientCloseReason
        if let connectError, !socket.isOpen {
            reason = .connectFailed(connectError)
        } else if let peer = socket.peerClose {
            reason = .peer(code: peer.code, reason: peer.reason)
        } else if socket.closedForCause {
            reason = .dropped
        } else if socket.closing != nil {
            reason = .local
        } else {
            reason = socket.isOpen ? .dropped : .connectFailed("the connection closed during the handshake")
        }
        deferredCloses.append((id, reason))
    }

    /// Reports closes that happened inside the last lws call.
    func reportDeferred() {
        while !deferredCloses.isEmpty {
            let pending = deferredCloses
            deferredCloses = []
            for (id, reason) in pending { delegate.closed(id, reason, client: self) }
        }
    }

    /// Before the context is destroyed: close frames for every open connection.
    func closeAll() {
        for id in sockets.keys { close(id, code: 1000, reason: "client stopping") }
    }
}

/// The one C callback of client contexts: finds the ``ClientConnections`` through the
/// context's user pointer and the connection through the wsi's opaque user data.
func clientCallback(
    _ wsi: OpaquePointer?,
    _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?,
    _ length: Int
) -> Int32 {
    guard let wsi, let connections = LWSContext.owner(of: wsi, as: ClientConnections.self) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    let id = Int(bitPattern: lws_get_opaque_user_data(wsi))
    switch reason {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        return 0
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        connections.opened(id)
        return 0
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return connections.received(id, UnsafeRawBufferPointer(start: input, count: length))
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return connections.writable(id)
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        connections.peerClosing(id, UnsafeRawBufferPointer(start: input, count: length))
        return 0
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        let message = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection error"
        connections.ended(id, connectError: message)
        return 0
    case LWS_CALLBACK_CLIENT_CLOSED:
        connections.ended(id, connectError: nil)
        return 0
    case LWS_CALLBACK_WSI_DESTROY:
        // Every wsi ends here. After CLIENT_CLOSED or CONNECTION_ERROR this finds
        // nothing left to do; a connection that ended without either is still
        // reported, once, so no socket is left waiting forever.
        connections.ended(id, connectError: "the connection was closed before it opened")
        return 0
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}
