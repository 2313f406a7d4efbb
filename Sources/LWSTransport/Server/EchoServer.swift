internal import CWebsockets
import Foundation
import Synchronization

/// A bare libwebsockets echo server: every text message comes straight back. It
/// measures the transport's ceiling on this machine (`readstates echo` driven by
/// `readstates loadgen --echo`), the figure the gateway's event rate is compared with.
/// Same thread model as ``GatewayServer``: one service thread, one callback.
public final class EchoServer: Sendable {
    public let port: Int32
    private let inbox = LWSInbox<Bool>()
    private let thread: ServiceThread

    /// Starts listening; returns once the port is open.
    /// - Parameter port: 0 lets the kernel pick a free one (see ``port``).
    public init(host: String = "127.0.0.1", port: Int32) throws(TransportError) {
        let listening = ListeningPort()
        let inbox = inbox
        thread = try ServiceThread(
            name: "lws-echo",
            setUp: { () throws(TransportError) -> EchoConnections in
                let echo = EchoConnections()
                echo.context = try LWSContext(
                    .init(
                        host: host, port: port,
                        protocols: [.init(name: "http", callback: echoCallback, perSessionDataSize: MemoryLayout<Int>.size, receiveBufferSize: 65_536)],
                        user: Unmanaged.passUnretained(echo).toOpaque()
                    )
                )
                listening.port.store(echo.context!.listenPort ?? port, ordering: .releasing)
                inbox.attach(echo.context!)
                return echo
            },
            serve: { echo in
                while inbox.drain().isEmpty, echo.context!.service() {}
                _ = inbox.detach()
                // Destroying the context closes the connections; its callbacks still
                // reach `echo`, which owns it and so outlives it.
                echo.context = nil
            }
        )
        self.port = listening.port.load(ordering: .acquiring)
    }

    /// Closes the port and every connection; returns when the thread has ended.
    public func stop() {
        inbox.post(true)
        thread.wait()
    }
}

/// The echo server's connections, on its service thread.
final class EchoConnections {
    private final class Connection {
        var incoming = IncomingMessage()
        var outgoing = OutgoingFrames()
    }

    private var connections: [Int: Connection] = [:]
    private var nextID = 1
    /// Owned here so that its callbacks never outlive this object (see ``ServiceLoop``).
    var context: LWSContext?

    func established(_ sessionData: UnsafeMutableRawPointer) {
        sessionData.storeBytes(of: nextID, as: Int.self)
        connections[nextID] = Connection()
        nextID += 1
    }

    func received(_ wsi: OpaquePointer, _ sessionData: UnsafeMutableRawPointer, _ chunk: UnsafeRawBufferPointer) -> Int32 {
        guard let connection = connections[sessionData.load(as: Int.self)] else { return -1 }
        do {
            guard let message = try connection.incoming.append(chunk, from: wsi, limit: 1 << 20) else { return 0 }
            connection.outgoing.send(message, to: wsi)
            return 0
        } catch {
            return -1
        }
    }

    func writable(_ wsi: OpaquePointer, _ sessionData: UnsafeMutableRawPointer) -> Int32 {
        guard let connection = connections[sessionData.load(as: Int.self)] else { return 0 }
        return connection.outgoing.writeNext(to: wsi, closing: nil)
    }

    func closed(_ sessionData: UnsafeMutableRawPointer) {
        connections[sessionData.load(as: Int.self)] = nil
    }
}

func echoCallback(
    _ wsi: OpaquePointer?,
    _ reason: lws_callback_reasons,
    _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?,
    _ length: Int
) -> Int32 {
    guard let wsi, let echo = LWSContext.owner(of: wsi, as: EchoConnections.self) else {
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
    switch reason {
    case LWS_CALLBACK_ESTABLISHED:
        guard let user else { return -1 }
        echo.established(user)
        return 0
    case LWS_CALLBACK_RECEIVE:
        guard let user else { return -1 }
        return echo.received(wsi, user, UnsafeRawBufferPointer(start: input, count: length))
    case LWS_CALLBACK_SERVER_WRITEABLE:
        guard let user else { return -1 }
        return echo.writable(wsi, user)
    case LWS_CALLBACK_CLOSED:
        if let user { echo.closed(user) }
        return 0
    default:
        return lws_callback_http_dummy(wsi, reason, user, input, length)
    }
}
