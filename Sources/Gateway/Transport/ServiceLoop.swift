import Foundation
import LWSTransport

/// One service thread of the gateway: what its ``LWSServer`` reports goes to the
/// gateway WebSockets (``GatewayConnections``) and to the REST API; work other threads
/// post comes out of its inbox after every round. Touched only on that thread.
final class ServiceLoop: LWSServerHandler {
    let rest: RESTAPI
    let websockets: GatewayConnections
    let inbox: ServiceInbox
    /// Set right after creation: the server needs this object as its handler first.
    /// Held here (and by ``GatewayConnections``, which sends through it) and shut down
    /// while this object is alive, so the server's last callbacks find it.
    var server: LWSServer!

    init(rest: RESTAPI, websockets: GatewayConnections, inbox: ServiceInbox) {
        self.rest = rest
        self.websockets = websockets
        self.inbox = inbox
    }

    // MARK: WebSocket

    /// Only `/gateway` upgrades to a WebSocket.
    func acceptsWebSocket(uri: String) -> Bool {
        uri == "/gateway" || uri.hasPrefix("/gateway?")
    }

    func opened(_ connection: Int, query: String?) {
        websockets.opened(connection, query: query)
    }

    func received(_ connection: Int, message: [UInt8]) {
        websockets.received(connection, frame: message)
    }

    func refused(_ connection: Int) {
        websockets.refused(connection)
    }

    func closed(_ connection: Int) {
        websockets.closed(connection)
    }

    // MARK: HTTP

    /// Answered off the service thread (a route may wait for a database load); the
    /// response comes back through the inbox.
    func request(_ connection: Int, _ request: HTTPRequest) {
        let rest = rest, inbox = inbox
        Task {
            inbox.post(.httpResponse(connection: connection, await rest.respond(to: request)))
        }
    }

    func requestTooLarge(_ connection: Int, limit: Int) {
        server.respond(connection, .error(413, "body over \(limit) bytes"))
    }

    /// After every round of the service loop (a wake-up from another thread ends one):
    /// most calls find the inbox empty.
    func drainInbox() {
        for event in inbox.drain() {
            switch event {
            case .httpResponse(let id, let response): server.respond(id, response)
            case .readyLoaded(let id, let user, let states, let versions): websockets.readyLoaded(id, user: user, states: states, versions: versions)
            case .readyFailed(let id): websockets.readyFailed(id)
            case .acked(let user, let changes, let manual, let versions):
                websockets.acked(user: user, changes: changes, manual: manual, versions: versions)
            case .requestFailed(let id, let error): websockets.requestFailed(id, error)
            case .sendMessage(let request): websockets.sendMessage(request)
            case .tick: websockets.tick()
            case .goAway: websockets.goAway()
            case .fromOtherThread(let actions): websockets.perform(actions)
            case .fromCluster(let type, let users, let payload): websockets.deliverFromCluster(type, payload: payload, toUsers: users)
            }
        }
    }
}
