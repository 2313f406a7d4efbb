internal import CWebsockets
import Foundation

/// The service thread's state: open HTTP connections by ID, and the gateway WebSockets. Touched only from lws
/// callbacks, which all run on that thread, so it needs no lock.
final class ServiceLoop {
    let rest: RESTAPI
    let websockets: GatewayConnections
    let inbox: ServiceInbox
    /// The context whose callbacks reach this object: owned here, so the context is
    /// destroyed (its last callbacks run) while this object is still alive. Set right
    /// after creation, since the context needs this object's address first.
    var context: LWSContext?
    private var connections: [Int: HTTPConnection] = [:]
    private var nextID = 1
    /// This loop's service thread: the low 8 bits of its connection IDs.
    private let thread: Int

    init(rest: RESTAPI, websockets: GatewayConnections, inbox: ServiceInbox, thread: Int = 0) {
        self.rest = rest
        self.websockets = websockets
        self.inbox = inbox
        self.thread = thread
    }

    /// A fresh connection ID (its thread in the low 8 bits, see
    /// ``GatewayCore/thread(of:)``), stored in lws's per-connection memory.
    private func assignID(_ sessionData: UnsafeMutableRawPointer) -> Int {
        let id = nextID << 8 | thread
        nextID += 1
        sessionData.storeBytes(of: id, as: Int.self)
        return id
    }

    // MARK: WebSocket

    /// Only `/gateway` upgrades to a WebSocket.
    func acceptsUpgrade(_ wsi: OpaquePointer) -> Bool {
        HTTPConnection.header(wsi, WSI_TOKEN_GET_URI).map { $0 == "/gateway" || $0.hasPrefix("/gateway?") } ?? false
    }

    func established(_ wsi: OpaquePointer, sessionData: UnsafeMutableRawPointer) {
        disableNagle(wsi)
        websockets.established(assignID(sessionData), wsi: wsi, query: HTTPConnection.query(of: wsi))
    }

    func received(sessionData: UnsafeMutableRawPointer, _ chunk: UnsafeRawBufferPointer) {
        guard let id = Self.id(sessionData) else { return }
        websockets.receive(id, chunk)
    }

    func socketWritable(sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let id = Self.id(sessionData) else { return 0 }
        return websockets.writable(id)
    }

    func socketClosed(sessionData: UnsafeMutableRawPointer?) {
        guard let sessionData, let id = Self.id(sessionData) else { return }
        websockets.closed(id)
        sessionData.storeBytes(of: 0, as: Int.self)
    }

    // MARK: HTTP

    /// A request's headers have arrived (`LWS_CALLBACK_HTTP`).
    func beginRequest(_ wsi: OpaquePointer, sessionData: UnsafeMutableRawPointer, path: String) -> Int32 {
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
        connections[id] = connection
        let length = HTTPConnection.header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH).flatMap { Int($0) } ?? 0
        if length > RESTAPI.maximumBodyBytes {
            respond(id, .error(413, "body over \(RESTAPI.maximumBodyBytes) bytes"))
        } else if method == "POST" && length > 0 {
            connection.expectingBody = true
        } else {
            dispatch(id)
        }
        return 0
    }

    func receiveBody(sessionData: UnsafeMutableRawPointer, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let id = Self.id(sessionData), let connection = connections[id], connection.expectingBody else { return 0 }
        guard connection.request.body.count + bytes.count <= RESTAPI.maximumBodyBytes else {
            connection.expectingBody = false
            respond(id, .error(413, "body over \(RESTAPI.maximumBodyBytes) bytes"))
            return 0
        }
        connection.request.body.append(contentsOf: bytes)
        return 0
    }

    func bodyComplete(sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let id = Self.id(sessionData), let connection = connections[id], connection.expectingBody else { return 0 }
        connection.expectingBody = false
        dispatch(id)
        return 0
    }

    /// Answers off the service thread; the response comes back through the inbox.
    private func dispatch(_ id: Int) {
        guard let request = connections[id]?.request else { return }
        let rest = rest, inbox = inbox
        Task {
            inbox.post(.httpResponse(connection: id, await rest.respond(to: request)))
        }
    }

    private func respond(_ id: Int, _ response: HTTPResponse) {
        guard let connection = connections[id] else { return }
        connection.response = response
        lws_callback_on_writable(connection.wsi)
    }

    /// After every round of the service loop (a wake-up from another thread ends one):
    /// most calls find the inbox empty.
    func drainInbox() {
        for event in inbox.drain() {
            switch event {
            case .httpResponse(let id, let response): respond(id, response)
            case .readyLoaded(let id, let user, let states): websockets.readyLoaded(id, user: user, states: states)
            case .readyFailed(let id): websockets.readyFailed(id)
            case .acked(let user, let changes, let manual): websockets.acked(user: user, changes: changes, manual: manual)
            case .requestFailed(let id, let error): websockets.requestFailed(id, error)
            case .sendMessage(let request): websockets.sendMessage(request)
            case .tick: websockets.tick()
            case .goAway: websockets.goAway()
            case .fromOtherThread(let actions): websockets.performForOtherThread(actions)
            }
        }
    }

    func writable(_ wsi: OpaquePointer, sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let id = Self.id(sessionData), let connection = connections[id], let response = connection.response else {
            return 0
        }
        guard connection.writeNext(response) else { return -1 }
        guard connection.step == .done else {
            lws_callback_on_writable(wsi)
            return 0
        }
        connections[id] = nil
        // Keep-alive: the next request on this connection gets a new ID.
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    func closed(sessionData: UnsafeMutableRawPointer?) {
        guard let sessionData, let id = Self.id(sessionData) else { return }
        connections[id] = nil
        sessionData.storeBytes(of: 0, as: Int.self)
    }

    private static func id(_ sessionData: UnsafeMutableRawPointer) -> Int? {
        let id = sessionData.load(as: Int.self)
        return id == 0 ? nil : id
    }
}

/// The one C callback for every connection: finds the ``ServiceLoop`` through the
/// context's user pointer and hands the event over.
func gatewayCallback(
    _ wsi: OpaquePointer?,
    _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?,
    _ length: Int
) -> Int32 {
    guard let wsi, let loop = LWSContext.owner(of: wsi, as: ServiceLoop.self) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    switch reason {
    case LWS_CALLBACK_HTTP:
        guard let user else { return -1 }
        let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
        return loop.beginRequest(wsi, sessionData: user, path: path)
    case LWS_CALLBACK_HTTP_BODY:
        guard let user else { return -1 }
        return loop.receiveBody(sessionData: user, UnsafeRawBufferPointer(start: input, count: length))
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        guard let user else { return -1 }
        return loop.bodyComplete(sessionData: user)
    case LWS_CALLBACK_HTTP_WRITEABLE:
        guard let user else { return -1 }
        return loop.writable(wsi, sessionData: user)
    case LWS_CALLBACK_CLOSED_HTTP:
        loop.closed(sessionData: user)
        return 0
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return loop.acceptsUpgrade(wsi) ? 0 : -1
    case LWS_CALLBACK_ESTABLISHED:
        guard let user else { return -1 }
        loop.established(wsi, sessionData: user)
        return 0
    case LWS_CALLBACK_RECEIVE:
        guard let user else { return -1 }
        loop.received(sessionData: user, UnsafeRawBufferPointer(start: input, count: length))
        return 0
    case LWS_CALLBACK_SERVER_WRITEABLE:
        guard let user else { return -1 }
        return loop.socketWritable(sessionData: user)
    case LWS_CALLBACK_CLOSED:
        loop.socketClosed(sessionData: user)
        return 0
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}
