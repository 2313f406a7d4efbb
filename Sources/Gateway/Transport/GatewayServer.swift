import Foundation
import LWSTransport
import ReadStatesModule
public import Snowflake
import Synchronization

/// The network side of `readstates serve`: N service threads, each with its own
/// libwebsockets context and libev loop on the same port (SO_REUSEPORT, so the kernel
/// spreads new connections over them), serving the gateway WebSocket at `/gateway` and
/// HTTP (``RESTAPI``).
///
/// ## Threading
/// Each thread has its own ``GatewayCore`` for its connections; the resumable sessions
/// are shared (``SharedSessions``), so a dispatch to a user reaches the user's sessions
/// on every thread and a RESUME works on whichever thread the new connection lands.
/// Sends and closes for another thread's connections go to its inbox, one post per
/// thread for each batch of actions; the engine is called inline on the thread that
/// received the payload. Every `lws_*` call happens on a context's own thread.
/// Requests are answered off it, in tasks, because a route may wait for a database
/// load; a finished response comes back through ``ServiceInbox``, and is written when
/// the connection is writable. So a slow load delays its own request only.
public final class GatewayServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (see ``port``).
        public var port: Int32 = 8080
        public var tlsCertificatePath: String?
        public var tlsPrivateKeyPath: String?
        public var session = SessionMachine.Configuration()
        /// Service threads, each with its own lws context on the same port
        /// (SO_REUSEPORT); a user's sessions may be on any of them.
        public var threads = 1
        /// The deflate streams of `?compress=zlib-stream` connections.
        public var compression = ZlibStreamSettings()
        /// How long a closed session's close frame may wait behind a client that does
        /// not read before its connection is dropped.
        public var closeDeadlineSeconds: Int32 = LWSServer.Configuration.defaultCloseDeadlineSeconds

        public init(host: String = "127.0.0.1", port: Int32 = 8080) {
            self.host = host
            self.port = port
        }
    }

    /// The port it listens on (the chosen one when configured with 0).
    public let port: Int32
    private let inboxes: [ServiceInbox]
    private let threads: [ServiceThread]

    /// Starts listening and serving; returns once the port is open on every thread.
    /// - Throws: `TransportError` when the address cannot be used.
    /// - Parameter messageIDs: mints message IDs (give each gateway process its own
    ///   worker/process numbers).
    public init(configuration: Configuration, rest: RESTAPI, messageIDs: SnowflakeGenerator = SnowflakeGenerator(worker: 0, process: 0)) throws {
        let count = max(1, min(configuration.threads, 255))
        let inboxes = (0..<count).map { _ in ServiceInbox() }
        self.inboxes = inboxes
        let router = count > 1 ? ServiceThreads(inboxes) : nil
        // Messages sent over HTTP go through the first thread, like any other client's.
        rest.messages.attach(inboxes[0])
        // Dispatches from other nodes, to the service threads.
        rest.cluster?.attach(inboxes)
        let sessions = SharedSessions(
            // One shard with one thread: exactly the single registry it was.
            shards: count == 1 ? 1 : 64,
            resumeWindowMilliseconds: configuration.session.resumeWindowMilliseconds,
            limits: configuration.session.resumeHistory
        )
        var threads: [ServiceThread] = []
        var port = configuration.port
        do {
            for index in 0..<count {
                let listening = ListeningPort()
                let inbox = inboxes[index]
                // The first thread opens the port (port 0: the kernel's choice); the
                // others listen on the same one (SO_REUSEPORT: the kernel spreads new
                // connections over the threads).
                let bindPort = port
                // Several threads: a SO_REUSEPORT listener of ours per thread.
                let listener = count > 1 ? try SharedListener.open(host: configuration.host, port: bindPort, first: index == 0) : nil
                threads.append(
                    try ServiceThread(
                        name: "lws-service-\(index)",
                        setUp: { [configuration] () throws(TransportError) -> ServiceLoop in
                            let scheme = configuration.tlsCertificatePath == nil ? "ws" : "wss"
                            var core = GatewayCore(
                                engine: rest.engine,
                                directory: rest.directory,
                                tokens: rest.tokens,
                                messageIDs: messageIDs,
                                metrics: rest.metrics,
                                configuration: configuration.session,
                                versions: rest.versions,
                                sessions: sessions,
                                thread: index,
                                threadCount: count
                            )
                            if let cluster = rest.cluster {
                                core.ownership = GatewayCore.Ownership(isClustered: true, owns: { cluster.isLocal($0) })
                            }
                            let websockets = GatewayConnections(
                                core: core, router: rest.router, inbox: inbox, compression: configuration.compression, threads: router
                            )
                            let loop = ServiceLoop(rest: rest, websockets: websockets, inbox: inbox)
                            var transport = LWSServer.Configuration(host: configuration.host, port: bindPort)
                            transport.tlsCertificatePath = configuration.tlsCertificatePath
                            transport.tlsPrivateKeyPath = configuration.tlsPrivateKeyPath
                            transport.sharedListener = listener
                            transport.connectionTag = index
                            transport.maximumMessageBytes = ClientPayload.maximumFrameBytes
                            transport.maximumBodyBytes = RESTAPI.maximumBodyBytes
                            transport.closeDeadlineSeconds = configuration.closeDeadlineSeconds
                            let server = try LWSServer(transport, handler: loop)
                            loop.server = server
                            websockets.server = server
                            websockets.resumeURL = "\(scheme)://\(configuration.host):\(server.listenPort)/gateway"
                            listening.port.store(server.listenPort, ordering: .releasing)
                            if index == 0 { rest.gatewayURL.value = websockets.resumeURL }
                            server.attach(inbox.events)
                            return loop
                        },
                        serve: { loop in Self.serve(loop, inbox: inbox) }
                    )
                )
                if index == 0 { port = listening.port.load(ordering: .acquiring) }
            }
        } catch {
            // A thread that could not listen: the ones started are stopped.
            for inbox in inboxes { inbox.requestStop() }
            for thread in threads { thread.wait() }
            throw error
        }
        self.threads = threads
        self.port = port
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
        loop.drainInbox()
        while loop.server.serviceRound() {
            // A wake-up from another thread ends a round: what it posted is handled here.
            loop.drainInbox()
            if inbox.isStopping {
                let now = Monotonic.milliseconds()
                if deadline == nil { deadline = now + 2000 }
                if loop.websockets.isEmpty || now >= deadline! { break }
            }
        }
        ticker.cancel()
        inbox.detach()
        // Closes every connection; their callbacks still reach `loop`, which owns the
        // server and so outlives it.
        loop.server.shutDown()
    }

    /// Stops accepting, closes every connection, and returns when every service thread
    /// has shut down its server. Safe to call more than once.
    public func stop() {
        for inbox in inboxes { inbox.requestStop() }
        for thread in threads { thread.wait() }
    }
}

/// Work other threads hand to the service thread.
enum ServiceEvent: Sendable {
    case httpResponse(connection: Int, HTTPResponse)
    case readyLoaded(connection: Int, user: Snowflake, states: [ReadState], versions: ReadStateVersions)
    case readyFailed(connection: Int)
    case acked(user: Snowflake, changes: [ReadStateChange], manual: Bool, versions: ReadStateVersions?)
    case requestFailed(connection: Int, RequestError)
    /// A message sent over HTTP, performed on the service thread like SEND_MESSAGE.
    case sendMessage(MessageRequest)
    /// Once a second, from a timer: heartbeat deadlines.
    case tick
    /// `stop()`: RECONNECT and close every session, then end the loop.
    case goAway
    /// Sends and closes another thread's core decided for this thread's connections.
    case fromOtherThread([GatewayCore.Action])
    /// A dispatch from another node, for this node's sessions of `users`.
    case fromCluster(type: String, users: [Snowflake], payload: [UInt8])
}

/// Every service thread's inbox, by thread index.
final class ServiceThreads: Sendable {
    let inboxes: [ServiceInbox]

    init(_ inboxes: [ServiceInbox]) {
        self.inboxes = inboxes
    }

    func post(_ event: ServiceEvent, to thread: Int) {
        guard inboxes.indices.contains(thread) else { return }
        inboxes[thread].post(event)
    }
}

/// What other threads hand to the server's service thread, plus the stop request.
final class ServiceInbox: Sendable {
    let events = LWSInbox<ServiceEvent>()
    private let stopping = Atomic<Bool>(false)

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
