import Foundation
import LWSTransport
import Prometheus
import ReadStatesModule
import Snowflake

/// The server's gateway WebSockets on the service thread: hands their messages to the
/// ``GatewayCore`` and performs what the core returns (send bytes through the
/// transport, close, load a user off the thread). It decides nothing of the protocol.
final class GatewayConnections {
    private var core: GatewayCore
    /// The engine here, or the user's owner in a cluster: loads and acks off the thread.
    private let router: ReadStateRouter
    private let inbox: ServiceInbox
    private var sockets: [Int: WebSocketConnection] = [:]
    /// This thread's transport, set once it is created (it needs its handler first).
    var server: LWSServer!
    /// How `?compress=zlib-stream` connections' streams are set up.
    private let compression: ZlibStreamSettings
    /// Every service thread's inbox, by thread: where actions for another thread's
    /// connections go (nil with one thread).
    private let threads: ServiceThreads?
    /// This thread's connections and frames on `/metrics`.
    private let figures: GatewayMetrics.ThreadFigures

    init(
        core: GatewayCore, router: ReadStateRouter, inbox: ServiceInbox, compression: ZlibStreamSettings = ZlibStreamSettings(),
        threads: ServiceThreads? = nil
    ) {
        self.core = core
        self.router = router
        self.inbox = inbox
        self.compression = compression
        self.threads = threads
        figures = core.metrics.thread(core.thread)
    }

    var isEmpty: Bool { sockets.isEmpty }

    /// READY's `resume_gateway_url`, once the context listens.
    var resumeURL: String {
        get { core.resumeURL }
        set { core.resumeURL = newValue }
    }

    // MARK: Events from lws

    /// A WebSocket opened; `query` is its URL's query string (the connect options).
    func opened(_ id: Int, query: String?) {
        // The transport keeps the socket before it reports it open.
        guard let socket = server.webSocket(id) else { return }
        figures.connections.increment()
        let options = try? GatewayConnectOptions(query: query)
        // Fails only when out of memory: that connection is closed, the server goes on.
        let deflater = options?.compression == .zlibStream ? try? ZlibStreamDeflater(compression) : nil
        sockets[id] = WebSocketConnection(socket, deflater: deflater, ordered: core.threadCount > 1)
        if deflater != nil { server.sendBinaryMessages(on: id) }
        perform(core.connected(id, now: Monotonic.milliseconds()))
        if options == nil {
            perform(core.undecodable(id))  // options it cannot honour: 4002
        } else if options?.compression == .zlibStream && deflater == nil {
            perform(core.backlogExceeded(id))  // 4000, as for any connection it cannot serve
        }
    }

    func received(_ id: Int, frame: [UInt8]) {
        // The transport hands over only its open WebSockets' frames, and the core
        // ignores a connection it does not know: no lookup here.
        figures.framesIn.increment()
        perform(core.received(id, frame: frame, now: Monotonic.milliseconds()))
    }

    /// A binary frame, or one over the size limit: 4002.
    func refused(_ id: Int) {
        perform(core.undecodable(id))
    }

    func closed(_ id: Int) {
        guard sockets.removeValue(forKey: id) != nil else { return }
        figures.connections.decrement()
        core.disconnected(id, now: Monotonic.milliseconds())
    }

    // MARK: Events from the inbox

    func tick() { perform(core.tick(now: Monotonic.milliseconds())) }

    func goAway() { perform(core.goAway()) }

    func readyLoaded(_ id: Int, user: Snowflake, states: [ReadState], versions: ReadStateVersions) {
        perform(core.readyLoaded(id, user: user, states: states, versions: versions))
    }

    func readyFailed(_ id: Int) { perform(core.readyFailed(id)) }

    func acked(user: Snowflake, changes: [ReadStateChange], manual: Bool, versions: ReadStateVersions?) {
        perform(core.acked(user: user, changes: changes, manual: manual, versions: versions))
    }

    func deliverFromCluster(_ type: String, payload: [UInt8], toUsers users: [Snowflake]) {
        perform(core.deliverFromCluster(type, payload: payload, toUsers: users))
    }

    func requestFailed(_ id: Int, _ error: RequestError) { perform(core.requestFailed(id, error)) }

    /// A message sent over HTTP, on the same path as SEND_MESSAGE.
    func sendMessage(_ request: MessageRequest) {
        let (result, actions) = core.sendMessage(request.content, nonce: request.nonce, to: request.channel, from: request.user, connection: nil)
        perform(actions)
        request.reply(result)
    }

    // MARK: Actions

    /// Hands a frame to this thread's connection `id`.
    /// - Returns: false when the connection is gone.
    private func send(_ frame: DispatchFrame, to id: Int) -> Bool {
        guard let socket = sockets[id] else { return false }
        // A client that does not read: the core decides what follows.
        if socket.send(frame) > core.configuration.sendBacklogLimitBytes {
            perform(core.backlogExceeded(id))
        }
        return true
    }

    /// Performs what a core decided: this thread's, or another thread's for this
    /// thread's connections (handed over through the inbox).
    func perform(_ actions: [GatewayCore.Action]) {
        // Actions for other threads' connections: one post per thread for this call.
        var elsewhere: [Int: [GatewayCore.Action]] = [:]
        // Counted once per call: an atomic add per frame showed in `perf`.
        var framesOut = 0
        defer {
            for (thread, batch) in elsewhere { threads?.post(.fromOtherThread(batch), to: thread) }
            if framesOut > 0 { figures.framesOut.increment(by: Int64(framesOut)) }
        }
        for action in actions {
            switch action {
            case .send(let id, _) where !core.isLocal(id), .dispatch(let id, _) where !core.isLocal(id),
                .close(let id, _) where !core.isLocal(id), .closeTakenOver(let id, _) where !core.isLocal(id):
                elsewhere[GatewayCore.thread(of: id), default: []].append(action)
            case .send(let id, let frame):
                if send(DispatchFrame(whole: frame), to: id) { framesOut += 1 }
            case .dispatch(let id, let frame):
                if send(frame, to: id) { framesOut += 1 }
            case .close(let id, let code):
                // Once only, after what is queued: the transport sees to both.
                server.close(id, code: code.rawValue, reason: code.reason)
            case .closeTakenOver(let id, let code):
                // This thread's connection: its core hears of it and closes it.
                perform(core.closeTakenOver(id, code))
            case .loadForReady(let id, let user):
                let router = router, inbox = inbox
                Task {
                    do {
                        // From the owner in a cluster: a timeout there closes 4000 here.
                        let (states, versions) = try await router.readStates(of: user)
                        inbox.post(.readyLoaded(connection: id, user: user, states: states, versions: versions))
                    } catch {
                        inbox.post(.readyFailed(connection: id))
                    }
                }
            case .ackUncached(let acks):
                let router = router, inbox = inbox
                Task {
                    // Those applied before a failure stand, and the sessions hear of them.
                    let (changes, versions, failure) = await router.ack(
                        user: acks.user, items: acks.items, manual: acks.manual, mentionCount: acks.mentionCount
                    )
                    inbox.post(.acked(user: acks.user, changes: changes, manual: acks.manual, versions: versions))
                    if let failure, let id = acks.connection {
                        inbox.post(.requestFailed(connection: id, .unavailable("\(failure)", op: acks.op)))
                    }
                }
            case .mentionUncached(let users, let channel, let message):
                let router = router
                Task { await router.mention(users: users, channel: channel, message: message) }
            case .publish(let type, let target, let message, let payload):
                router.cluster?.publish(type, target: target, message: message, payload: payload)
            }
        }
    }
}
