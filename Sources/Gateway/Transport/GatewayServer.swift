internal import CWebsockets
public import Foundation
import Synchronization

/// The network side of `readstates serve`: one libwebsockets context on a service
/// thread of its own, serving HTTP (``RESTAPI``) on the gateway's port.
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

        public init(host: String = "127.0.0.1", port: Int32 = 8080) {
            self.host = host
            self.port = port
        }
    }

    /// The port it listens on (the chosen one when configured with 0).
    public let port: Int32
    private let inbox: ServiceInbox
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening and serving; returns once the port is open.
    /// - Throws: ``GatewayError`` when the address cannot be used.
    public init(configuration: Configuration, rest: RESTAPI) throws {
        var configuration = configuration
        if configuration.port == 0 {
            guard let free = LoopbackPort.free(host: configuration.host) else {
                throw GatewayError.listenFailed(host: configuration.host, port: 0)
            }
            configuration.port = free
        }
        port = configuration.port
        let inbox = ServiceInbox()
        self.inbox = inbox
        let started = Mutex<Result<Void, GatewayError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let finished = finished
        let thread = Thread { [configuration] in
            let loop = ServiceLoop(rest: rest, inbox: inbox)
            var context: LWSContext?
            do throws(GatewayError) {
                context = try LWSContext(
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
            } catch {
                started.withLock { $0 = .failure(error) }
                ready.signal()
                finished.signal()
                return
            }
            inbox.attach(context!)
            started.withLock { $0 = .success(()) }
            ready.signal()
            while !inbox.isStopping, context!.service() {}
            inbox.detach()
            // Destroying the context closes every connection; its callbacks still
            // reach `loop`, which lives until after this.
            context = nil
            withExtendedLifetime(loop) {}
            finished.signal()
        }
        thread.name = "lws-service"
        thread.start()
        ready.wait()
        if case .failure(let error) = started.withLock({ $0 }) { throw error }
    }

    /// Stops accepting, closes every connection, and returns when the service thread
    /// has destroyed its context. Safe to call more than once.
    public func stop() {
        guard inbox.requestStop() else { return }
        finished.wait()
    }
}

/// What other threads hand to the service thread, and the one lws call they may make
/// (`lws_cancel_service`, through the attached context).
final class ServiceInbox: Sendable {
    private struct State {
        var responses: [(connection: Int, response: HTTPResponse)] = []
        var context: LWSContextHandle?
        var stopping = false
    }

    private let state = Mutex(State())

    func attach(_ context: LWSContext) {
        state.withLock { $0.context = LWSContextHandle(context.pointer) }
    }

    func detach() {
        state.withLock { $0.context = nil }
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// - Returns: false when a stop was already requested.
    func requestStop() -> Bool {
        let context: LWSContextHandle? = state.withLock { state in
            guard !state.stopping else { return nil }
            state.stopping = true
            return state.context ?? LWSContextHandle(nil)
        }
        guard let context else { return false }
        context.cancelService()
        return true
    }

    func post(connection: Int, response: HTTPResponse) {
        let context = state.withLock { state in
            state.responses.append((connection, response))
            return state.context
        }
        context?.cancelService()
    }

    func drain() -> [(connection: Int, response: HTTPResponse)] {
        state.withLock { state in
            defer { state.responses.removeAll(keepingCapacity: true) }
            return state.responses
        }
    }
}

/// The context pointer, for `lws_cancel_service` only (the one thread-safe call).
struct LWSContextHandle: @unchecked Sendable {
    private let pointer: OpaquePointer?

    init(_ pointer: OpaquePointer?) {
        self.pointer = pointer
    }

    func cancelService() {
        if let pointer { lws_cancel_service(pointer) }
    }
}
