internal import CWebsockets
import Foundation
import ReadStatesModule
public import Snowflake
import Synchronization

/// The network side of `readstates serve`: one libwebsockets context on a service
/// thread of its own, serving the gateway WebSocket at `/gateway` and HTTP
/// (``RESTAPI``) on the same port.
///
/// ## Threading
/// Every `lws_*` call happens on the service thread. Requests are answered off it, in
/// tasks, because a route may wait for a database load; a finished response comes
/// back through ``ServiceInbox`` and `lws_cancel_service`, and is written when the
/// connection is writable. So a slow load delays its own request only.
public final class GatewayServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (see ``port``).
        public var port: Int32 = 8080
        public var tlsCertificatePath: String?
        public var tlsPrivateKeyPath: String?
        public var session = SessionMachine.Configuration()
        /// The deflate streams of `?compress=zlib-stream` connections.
        public var compression = ZlibStreamSettings()

        public init(host: String = "127.0.0.1", port: Int32 = 8080) {
            self.host = host
            self.port = port
        }
    }

    /// The port it listens on (the chosen one when configured with 0).
    public let port: Int32
    private let inbox: ServiceInbox
    private let thread: ServiceThread

    /// Starts listening and serving; returns once the port is open.
    /// - Throws: ``GatewayError`` when the address cannot be used.
    /// - Parameter messageIDs: mints message IDs (give each gateway process its own
    ///   worker/process numbers).
    public init(configuration: Configuration, rest: RESTAPI, messageIDs: SnowflakeGenerator = SnowflakeGenerator(worker: 0, process: 0)) throws {
        let listening = ListeningPort()
        let inbox = ServiceInbox()
        self.inbox = inbox
        rest.messages.attach(inbox)
        thread = try ServiceThread(
            name: "lws-service",
            setUp: { [configuration] () throws(GatewayError) -> ServiceLoop in
                let scheme = configuration.tlsCertificatePath == nil ? "ws" : "wss"
                let core = GatewayCore(
                    engine: rest.engine,
                    directory: rest.directory,
                    tokens: rest.tokens,
                    messageIDs: messageIDs,
                    metrics: rest.metrics,
                    configuration: configuration.session,
                    versions: rest.versions
                )
                let websockets = GatewayConnections(core: core, engine: rest.engine, inbox: inbox, compression: configuration.compression)
                let loop = ServiceLoop(rest: rest, websockets: websockets, inbox: inbox)
                loop.context = try LWSContext(
                    .init(
                        host: configuration.host,
                        port: configuration.port,
                        protocols: [
                            .init(name: "http", callback: gatewayCallback, perSessionDataSize: MemoryLayout<Int>.size)
                        ],
                        user: Unmanaged.passUnretained(loop).toOpaque(),
                        tlsCertificatePath: configuration.tlsCertificatePath,
                        tlsPrivateKeyPath: configuration.tlsPrivateKeyPath
                    )
                )
                let port = loop.context!.listenPort ?? configuration.port
                websockets.resumeURL = "\(scheme)://\(configuration.host):\(port)/gateway"
                listening.port.store(port, ordering: .releasing)
                inbox.attach(loop.context!)
                return loop
            },
            serve: { loop in Self.serve(loop, inbox: inbox) }
        )
        port = listening.port.load(ordering: .acquiring)
    }

    /// The service loop, with a one-second tick for heartbeat deadlines.
    private static func serve(_ loop: ServiceLoop, inbox: ServiceInbox) {
        let ticker = DispatchSource.makeTimerSource(queue: .global())
        ticker.schedule(deadline: .now() + 1, repeating: 1)
        ticker.setEventHandler { inbox.post(.tick) }
        ticker.resume()
        // After a stop request, serve on until every session got its close frame
        // (at most 2 s), so clients see RECONNECT and 1001.
        var deadline: UInt64?
        while loop.context!.service() {
            if inbox.isStopping {
                let now = Monotonic.milliseconds()
                if deadline == nil { deadline = now + 2000 }
                if loop.websockets.isEmpty || now >= deadline! { break }
            }
        }
        ticker.cancel()
        inbox.detach()
        // Destroying the context closes every connection; its callbacks still reach
        // `loop`, which owns it and so outlives it.
        loop.context = nil
    }

    /// Stops accepting, closes every connection, and returns when the service thread
    /// has destroyed its context. Safe to call more than once.
    public func stop() {
        inbox.requestStop()
        thread.wait()
    }
}

/// The port the service thread's context listens on, handed to the starting thread.
final class ListeningPort: Sendable {
    let port = Atomic<Int32>(0)
}

/// Work other threads hand to the service thread.
enum ServiceEvent: Sendable {
    case httpResponse(connection: Int, HTTPResponse)
    case readyLoaded(connection: Int, user: Snowflake, states: [ReadState])
    case readyFailed(connection: Int)
    case acked(user: Snowflake, changes: [ReadStateChange], manual: Bool)
    case requestFailed(connection: Int, RequestError)
    /// A message sent over HTTP, performed on the service thread like SEND_MESSAGE.
    case sendMessage(MessageRequest)
    /// Once a second, from a timer: heartbeat deadlines.
    case tick
    /// `stop()`: RECONNECT and close every session, then end the loop.
    case goAway
}

/// What other threads hand to the server's service thread, plus the stop request.
final class ServiceInbox: Sendable {
    private let events = LWSInbox<ServiceEvent>()
    private let stopping = Atomic<Bool>(false)

    func attach(_ context: LWSContext) {
        events.attach(context)
    }

    /// The service thread ends: later posts are refused, and messages still waiting
    /// get an answer.
    func detach() {
        for case .sendMessage(let request) in events.detach() {
            request.reply(.failure(.unavailable("the server is stopping", op: .sendMessage, nonce: request.nonce)))
        }
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Asks the service thread to say goodbye to every session and stop (once).
    func requestStop() {
        if !stopping.exchange(true, ordering: .acquiringAndReleasing) { post(.goAway) }
    }

    /// - Returns: false when the service thread is gone (the event is dropped).
    @discardableResult
    func post(_ event: ServiceEvent) -> Bool {
        events.post(event)
    }

    func drain() -> [ServiceEvent] {
        events.drain()
    }
}
