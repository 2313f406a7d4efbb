internal import CWebsockets
import Dispatch
import Foundation
import Synchronization

/// A WebSocket client on libwebsockets: one client context on a service thread of
/// its own, carrying any number of connections (the chat client uses one, the load
/// generator thousands).
///
/// ## Threading
/// As on the server, every `lws_*` call happens on the service thread. The delegate
/// runs there; other threads reach the connections only through ``post(_:)``, which
/// queues the work and wakes the thread (``LWSInbox``).
public final class WebSocketClient: Sendable {
    enum Work: Sendable {
        case run(@Sendable (ClientConnections) -> Void)
        case tick(TickFlag)
        case stop
    }

    private let inbox = LWSInbox<Work>()
    private let thread: ServiceThread

    /// Starts the service thread.
    /// - Parameters:
    ///   - tickInterval: how often the delegate's `tick` runs (nil: never). A load
    ///     generator paces its sends with it; a chat client times heartbeats.
    ///   - delegate: moves to the service thread and is used only there.
    public init(tickInterval: Duration? = nil, delegate: sending any WebSocketClientDelegate) throws(TransportError) {
        let inbox = inbox
        let handoff = ServiceThreadHandoff(delegate)
        thread = try ServiceThread(
            name: "lws-client",
            setUp: { () throws(TransportError) -> ClientConnections in
                let connections = ClientConnections(delegate: handoff.value)
                var configuration = LWSContext.Configuration(
                    port: 0,
                    protocols: [.init(name: "http", callback: clientCallback, receiveBufferSize: 65_536)],
                    user: Unmanaged.passUnretained(connections).toOpaque()
                )
                configuration.clientOnly = true
                connections.context = try LWSContext(configuration)
                inbox.attach(connections.context)
                return connections
            },
            serve: { connections in Self.serve(connections, inbox: inbox, tickInterval: tickInterval) }
        )
    }

    /// The service loop: posted work and ticks, then a round of lws, until stopped.
    private static func serve(_ connections: ClientConnections, inbox: LWSInbox<Work>, tickInterval: Duration?) {
        var ticker: (any DispatchSourceTimer)?
        if let tickInterval {
            let timer = DispatchSource.makeTimerSource(queue: .global(qos: .userInteractive))
            let nanoseconds = Int(tickInterval.components.seconds) * 1_000_000_000
                + Int(tickInterval.components.attoseconds / 1_000_000_000)
            timer.schedule(deadline: .now(), repeating: .nanoseconds(nanoseconds), leeway: .microseconds(50))
            // One tick waits at most: a service thread that falls behind finds one
            // tick, not a pile of them.
            let pending = TickFlag()
            timer.setEventHandler { if pending.raise() { inbox.post(.tick(pending)) } }
            timer.resume()
            ticker = timer
        }
        var stopping = false
        while !connections.isFinished {
            for work in inbox.drain() {
                switch work {
                case .run(let body): body(connections)
                case .tick(let pending):
                    pending.lower()
                    connections.delegate.tick(client: connections)
                case .stop: stopping = true
                }
            }
            if stopping { break }
            connections.reportDeferred()
            guard connections.context.service() else { break }
            connections.reportDeferred()
        }
        ticker?.cancel()
        _ = inbox.detach()
        // Close frames for what is still open, served for a moment so the server sees
        // a clean close rather than a dropped socket.
        connections.closeAll()
        let deadline = Monotonic.milliseconds() + 500
        while connections.count > 0, Monotonic.milliseconds() < deadline {
            connections.context.serviceWithoutWaiting()
            usleep(1000)
        }
        // Destroying the context ends the sockets; its callbacks still reach
        // `connections`, which owns it and so outlives it.
        connections.context = nil
    }

    /// Runs `work` on the service thread, where it may use the connections.
    /// - Returns: false when the client has stopped (the work is dropped).
    @discardableResult
    public func post(_ work: @escaping @Sendable (ClientConnections) -> Void) -> Bool {
        inbox.post(.run(work))
    }

    /// Closes every connection and ends the service thread; returns when it has.
    public func stop() {
        inbox.post(.stop)
        wait()
    }

    /// Blocks until the service loop ends (``stop()``, or the delegate called
    /// ``ClientConnections/finish()``).
    public func wait() {
        thread.wait()
    }
}

/// Whether a tick is waiting in the inbox.
final class TickFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    /// - Returns: true when it was down (so a tick should be posted).
    func raise() -> Bool {
        !raised.exchange(true, ordering: .acquiringAndReleasing)
    }

    func lower() {
        raised.store(false, ordering: .releasing)
    }
}

/// Moves the delegate to the service thread: created by the caller, used only there
/// from then on (the caller gave it up with `sending`).
private struct ServiceThreadHandoff: @unchecked Sendable {
    let value: any WebSocketClientDelegate

    init(_ value: sending any WebSocketClientDelegate) {
        self.value = value
    }
}
