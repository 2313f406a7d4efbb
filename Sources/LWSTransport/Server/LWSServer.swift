internal import CWebsockets
import Foundation

/// One service thread's server: its libwebsockets context, its WebSockets and HTTP
/// requests by connection ID, and the writes waiting for their sockets. It knows
/// nothing of the protocol spoken over them: events go to an ``LWSServerHandler``,
/// which answers through the WebSocket (``webSocket(_:)``), ``close(_:code:reason:)`` and
/// ``respond(_:_:)``.
///
/// ## Threading
/// Create, serve and drop it on one thread (libwebsockets is single threaded); other
/// threads reach it only through an ``LWSInbox`` attached to it, which wakes it.
public final class LWSServer {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0: the kernel picks a free port (see ``listenPort``).
        public var port: Int32 = 0
        public var tlsCertificatePath: String?
        public var tlsPrivateKeyPath: String?
        /// Accept from this listener (one per service thread on the same port)
        /// instead of lws's own; the server closes it.
        public var sharedListener: SharedListener?
        /// Stored in the low 8 bits of every connection ID (the service thread's index):
        /// whoever holds an ID knows which thread's server it belongs to.
        public var connectionTag = 0
        /// The largest WebSocket message taken (larger: ``LWSServerHandler/refused(_:_:)``).
        public var maximumMessageBytes = 1 << 20
        /// The largest HTTP request body taken.
        public var maximumBodyBytes = 1 << 20
        /// How long a WebSocket the handler closed may take to start its close frame
        /// (a peer that stopped reading never lets it out) before it is dropped.
        public var closeDeadlineSeconds: Int32 = defaultCloseDeadlineSeconds
        public static let defaultCloseDeadlineSeconds = OutgoingFrames.closeDeadlineSeconds

        public init(host: String = "127.0.0.1", port: Int32 = 0) {
            self.host = host
            self.port = port
        }
    }

    /// The most lws writes to a socket in one call. By default it is the receive
    /// buffer size (4 KiB), so a READY of 1,000 read states (170 KB) took some 40
    /// rounds of the loop, the rest waiting in lws's buffer.
    static let transmitPacketBytes = 64 * 1024

    private let configuration: Configuration
    private unowned let handler: any LWSServerHandler
    /// Owned here so that it is destroyed (its last callbacks run) while this object
    /// is still alive: set right after creation, since the context needs this object's
    /// address first.
    private var context: LWSContext?
    private var sockets: [Int: LWSWebSocket] = [:]
    private var requests: [Int: HTTPConnection] = [:]
    private var nextID = 1

    /// The port the server listens on (the kernel's choice when configured with 0).
    public private(set) var listenPort: Int32

    /// Opens the port (or takes the shared listener). Call on the thread that serves it.
    /// - Throws: ``TransportError`` when the address cannot be used.
    public init(_ configuration: Configuration, handler: any LWSServerHandler) throws(TransportError) {
        self.configuration = configuration
        self.handler = handler
        listenPort = configuration.port
        let context = try LWSContext(
            .init(
                host: configuration.host,
                port: configuration.port,
                protocols: [
                    .init(
                        name: "http", callback: serverCallback, perSessionDataSize: MemoryLayout<Int>.size,
                        transmitPacketBytes: Self.transmitPacketBytes
                    )
                ],
                user: Unmanaged.passUnretained(self).toOpaque(),
                tlsCertificatePath: configuration.tlsCertificatePath,
                tlsPrivateKeyPath: configuration.tlsPrivateKeyPath,
                sharedListener: configuration.sharedListener?.descriptor
            )
        )
        self.context = context
        listenPort = context.listenPort ?? configuration.port
    }

    /// Runs one round of the event loop: waits for at least one event (a wake-up
    /// through an attached inbox is one) and dispatches its callbacks.
    /// - Returns: false once the server is shut down.
    public func serviceRound() -> Bool {
        context?.service() ?? false
    }

    /// Closes every connection and the port (their `closed` events still arrive,
    /// during this call). Later rounds return false. Call it before letting go of the
    /// server: the context calls back into it while it is destroyed.
    public func shutDown() {
        context = nil
    }

    deinit {
        assert(context == nil, "an LWSServer was let go without shutDown()")
    }

    /// Lets other threads wake this one through `inbox`.
    package func attach<Event: Sendable>(_ inbox: LWSInbox<Event>) {
        guard let context else { return }
        inbox.attach(context)
    }

    // MARK: What the handler asks

    /// The open WebSocket `connection`, to send to (``LWSWebSocket/send(_:)``); nil once
    /// it is gone. Kept by the handler, it spares a lookup by ID per message.
    public func webSocket(_ connection: Int) -> LWSWebSocket? {
        sockets[connection]
    }

    /// The connection's messages go out as binary from now on (a compressed stream)
    /// rather than text.
    public func sendBinaryMessages(on connection: Int) {
        sockets[connection]?.outgoing.binary = true
    }

    /// Closes the WebSocket with `code` once the messages queued before are out.
    public func close(_ connection: Int, code: UInt16, reason: String) {
        guard let socket = sockets[connection], socket.closing == nil else { return }
        socket.closing = (code, reason)
        OutgoingFrames.limitClose(of: socket.wsi, seconds: configuration.closeDeadlineSeconds)
        lws_callback_on_writable(socket.wsi)
    }

    /// Answers an HTTP request (once); written when its socket is writable.
    public func respond(_ connection: Int, _ response: HTTPResponse) {
        guard let request = requests[connection], request.response == nil else { return }
        request.response = response
        lws_callback_on_writable(request.wsi)
    }

    // MARK: Events from lws

    /// A fresh connection ID (the tag in its low 8 bits), kept in lws's
    /// per-connection memory.
    private func assignID(_ sessionData: UnsafeMutableRawPointer) -> Int {
        let id = nextID << 8 | configuration.connectionTag
        nextID += 1
        sessionData.storeBytes(of: id, as: Int.self)
        return id
    }

    fileprivate func acceptsUpgrade(_ wsi: OpaquePointer) -> Bool {
        HTTPConnection.header(wsi, WSI_TOKEN_GET_URI).map(handler.acceptsWebSocket(uri:)) ?? false
    }

    fileprivate func established(_ wsi: OpaquePointer, sessionData: UnsafeMutableRawPointer) {
        disableNagle(wsi)
        let id = assignID(sessionData)
        sockets[id] = LWSWebSocket(wsi: wsi)
        handler.opened(id, query: HTTPConnection.query(of: wsi))
    }

    fileprivate func received(sessionData: UnsafeMutableRawPointer, _ chunk: UnsafeRawBufferPointer) {
        guard let id = Self.id(sessionData), let socket = sockets[id] else { return }
        let message: [UInt8]
        do {
            guard let complete = try socket.incoming.append(chunk, from: socket.wsi, limit: configuration.maximumMessageBytes) else {
                return
            }
            message = complete
        } catch {
            handler.refused(id)
            return
        }
        handler.received(id, message: message)
    }

    fileprivate func socketWritable(sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let id = Self.id(sessionData) else { return 0 }
        return sockets[id]?.writeNext() ?? 0
    }

    fileprivate func socketClosed(sessionData: UnsafeMutableRawPointer?) {
        guard let sessionData, let id = Self.id(sessionData) else { return }
        sessionData.storeBytes(of: 0, as: Int.self)
        guard let socket = sockets.removeValue(forKey: id) else { return }
        socket.isGone = true
        handler.closed(id)
    }

    /// A request's headers have arrived (`LWS_CALLBACK_HTTP`).
    fileprivate func beginRequest(_ wsi: OpaquePointer, sessionData: UnsafeMutableRawPointer, path: String) -> Int32 {
        let id = assignID(sessionData)
        let method = HTTPConnection.method(of: wsi)
        let connection = HTTPConnection(
            wsi: wsi,
            request: HTTPRequest(
                method: method,
                path: path,
                query: HTTPConnection.query(of: wsi),
                authorization: HTTPConnection.header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION),
                ifNoneMatch: HTTPConnection.header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH)
            )
        )
        requests[id] = connection
        let length = HTTPConnection.header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH).flatMap { Int($0) } ?? 0
        if length > configuration.maximumBodyBytes {
            handler.requestTooLarge(id, limit: configuration.maximumBodyBytes)
        } else if method == "POST" && length > 0 {
            connection.expectingBody = true
        } else {
            handler.request(id, connection.request)
        }
        return 0
    }

    fileprivate func receiveBody(sessionData: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let id = Self.id(sessionData), let connection = requests[id], connection.expectingBody else { return 0 }
        guard connection.request.body.count + bytes.count <= configuration.maximumBodyBytes else {
            connection.expectingBody = false
            handler.requestTooLarge(id, limit: configuration.maximumBodyBytes)
            return 0
        }
        connection.request.body.append(contentsOf: bytes)
        return 0
    }

    fileprivate func bodyComplete(sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let id = Self.id(sessionData), let connection = requests[id], connection.expectingBody else { return 0 }
        connection.expectingBody = false
        handler.request(id, connection.request)
        return 0
    }

    fileprivate func httpWritable(_ wsi: OpaquePointer, sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let id = Self.id(sessionData), let connection = requests[id], let response = connection.response else {
            return 0
        }
        guard connection.writeNext(response) else { return -1 }
        guard connection.step == .done else {
            lws_callback_on_writable(wsi)
            return 0
        }
        requests[id] = nil
        // Keep-alive: the next request on this connection gets a new ID.
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    fileprivate func httpClosed(sessionData: UnsafeMutableRawPointer?) {
        guard let sessionData, let id = Self.id(sessionData) else { return }
        requests[id] = nil
        sessionData.storeBytes(of: 0, as: Int.self)
    }

    private static func id(_ sessionData: UnsafeMutableRawPointer) -> Int? {
        let id = sessionData.load(as: Int.self)
        return id == 0 ? nil : id
    }
}

/// The one C callback for every connection of a server: finds the ``LWSServer``
/// through the context's user pointer and hands the event over.
private func serverCallback(
    _ wsi: OpaquePointer?,
    _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?,
    _ length: Int
) -> Int32 {
    guard let wsi, let server = LWSContext.owner(of: wsi, as: LWSServer.self) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    switch reason {
    case LWS_CALLBACK_HTTP:
        guard let user else { return -1 }
        let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
        return server.beginRequest(wsi, sessionData: user, path: path)
    case LWS_CALLBACK_HTTP_BODY:
        guard let user else { return -1 }
        return server.receiveBody(sessionData: user, UnsafeRawBufferPointer(start: input, count: length))
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        guard let user else { return -1 }
        return server.bodyComplete(sessionData: user)
    case LWS_CALLBACK_HTTP_WRITEABLE:
        guard let user else { return -1 }
        return server.httpWritable(wsi, sessionData: user)
    case LWS_CALLBACK_CLOSED_HTTP:
        server.httpClosed(sessionData: user)
        return 0
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return server.acceptsUpgrade(wsi) ? 0 : -1
    case LWS_CALLBACK_ESTABLISHED:
        guard let user else { return -1 }
        server.established(wsi, sessionData: user)
        return 0
    case LWS_CALLBACK_RECEIVE:
        guard let user else { return -1 }
        server.received(sessionData: user, UnsafeRawBufferPointer(start: input, count: length))
        return 0
    case LWS_CALLBACK_SERVER_WRITEABLE:
        guard let user else { return -1 }
        return server.socketWritable(sessionData: user)
    case LWS_CALLBACK_CLOSED:
        server.socketClosed(sessionData: user)
        return 0
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}
