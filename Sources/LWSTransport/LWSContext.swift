internal import CWebsockets
import Foundation

/// Owns one `lws_context` and every piece of C memory the context points into.
///
/// libwebsockets keeps pointers into its creation info for the whole life of the
/// context: that memory is a ``PinnedMemory`` owned here, freed only after
/// `lws_context_destroy`.
///
/// ## Threading
/// Create, service and destroy the context on one thread: libwebsockets is single
/// threaded. Other threads only wake it, through ``wakeHandle``.
final class LWSContext {
    /// `lws_callback_function`, written out: Swift imports the C typedef as a plain
    /// function type, and a C function pointer needs the `@convention(c)` spelling.
    typealias Callback = @convention(c) (
        OpaquePointer?, lws_callback_reasons, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int
    ) -> Int32

    /// One protocol entry: the name clients ask for and the C callback that serves it.
    struct ProtocolSpec {
        var name: String
        var callback: Callback?
        /// Bytes lws allocates per connection for this protocol (`wsi` user data).
        var perSessionDataSize: Int = 0
        /// Largest chunk lws hands to one RECEIVE callback.
        var receiveBufferSize: Int = 4096
        /// The most lws writes in one call (0: the receive buffer size).
        var transmitPacketBytes: Int = 0

        /// A protocol that serves plain HTTP with libwebsockets' default handler.
        static func httpOnly(name: String = "http") -> ProtocolSpec {
            ProtocolSpec(name: name, callback: lws_callback_http_dummy)
        }
    }

    struct Configuration {
        var host: String = "127.0.0.1"
        /// 0: the kernel picks a free port (see ``listenPort``).
        var port: Int32
        var protocols: [ProtocolSpec]
        /// Passed back by `lws_context_user` inside callbacks.
        var user: UnsafeMutableRawPointer? = nil
        var tlsCertificatePath: String? = nil
        var tlsPrivateKeyPath: String? = nil
        /// A client context: opens no port, may connect out over TLS.
        var clientOnly = false
        /// A listening socket of ours (`CWebsockets_listenShared`, SO_REUSEPORT) to
        /// accept from instead of lws's own listener: several contexts, one per service
        /// thread, each with its own socket on the same port. Closed with the context.
        var sharedListener: Int32? = nil
    }

    let pointer: OpaquePointer
    /// The port the server listens on: the kernel's choice when configured with 0
    /// (nil for a client context).
    let listenPort: Int32?
    /// Our libev loop (nil only if libev could not make one: then lws polls).
    private let eventLoop: OpaquePointer?
    /// Accepting from a shared listener of ours (``Configuration/sharedListener``).
    private let acceptor: UnsafeMutablePointer<CWebsockets_Acceptor>?
    /// What other threads wake this context's thread with (``wakeHandle``).
    private let waker: UnsafeMutablePointer<CWebsockets_Waker>?
    /// What lws points into for the context's whole life; freed after it is destroyed.
    private let memory: PinnedMemory

    /// The policy without validity pings, for client connections (lws applies the
    /// context's only to the connections its server accepts).
    var retryAndIdlePolicy: UnsafePointer<lws_retry_bo_t> { UnsafePointer(memory.retryPolicy) }

    init(_ configuration: Configuration) throws(TransportError) {
        // Freed by its own deinit on every way out of here that throws.
        let memory = PinnedMemory(protocolCount: configuration.protocols.count)
        let table = memory.protocols
        for (index, spec) in configuration.protocols.enumerated() {
            table[index].name = memory.keep(spec.name)
            table[index].callback = spec.callback
            table[index].per_session_data_size = spec.perSessionDataSize
            table[index].rx_buffer_size = spec.receiveBufferSize
            table[index].tx_packet_size = spec.transmitPacketBytes
        }

        var info = lws_context_creation_info()
        if configuration.clientOnly {
            info.port = CONTEXT_PORT_NO_LISTEN
            info.options |= CWebsockets_serverOptionDoSSLGlobalInit()
        } else if configuration.sharedListener != nil {
            // A server vhost without a listener of its own: connections are adopted.
            info.port = CONTEXT_PORT_NO_LISTEN_SERVER
        } else {
            info.port = configuration.port
            info.iface = memory.keep(configuration.host)
        }
        info.protocols = UnsafePointer(table.baseAddress)
        info.user = configuration.user
        info.gid = -1
        info.uid = -1
        info.options |= CWebsockets_serverOptionValidateUTF8()
        // No lws "validity" pings: by default (4.1.6) every connection gets a timer at
        // +300 s when it is established, and lws keeps its timers in one sorted list
        // that it walks from the head on each insertion, so a connect storm of n
        // connections walked n^2/2 entries (19% of the server's CPU for 10,000
        // sessions in `docs/bench/connect-storm-perf.txt`). This reaches the
        // connections a server accepts; client connections take it from
        // `retryAndIdlePolicy`. Liveness is the protocol's own heartbeat, as in
        // Discord's, and a close is bounded in time (`OutgoingFrames.limitClose`), the
        // one thing the validity timer used to bound for a peer that stops reading.
        info.retry_and_idle_policy = UnsafePointer(memory.retryPolicy)

        // libev (epoll) rather than lws's poll() loop, on a loop of ours (see
        // `service()`); lws keeps the foreign-loops array pointer, so it lives as long.
        // READSTATES_LWS_POLL=1 keeps lws's poll() loop, to compare the two.
        let eventLoop = ProcessInfo.processInfo.environment["READSTATES_LWS_POLL"] == nil ? CWebsockets_newEventLoop() : nil
        if let listener = configuration.sharedListener, eventLoop == nil {
            // Accepting from our own listener needs our own loop to watch it on.
            close(listener)
            throw TransportError.listenFailed(host: configuration.host, port: Int(configuration.port))
        }
        memory.foreignLoops.pointee = eventLoop.map { UnsafeMutableRawPointer($0) }
        if eventLoop != nil {
            info.options |= CWebsockets_serverOptionLibev()
            info.foreign_loops = memory.foreignLoops
        }
        if let cert = configuration.tlsCertificatePath, let key = configuration.tlsPrivateKeyPath {
            info.options |= CWebsockets_serverOptionDoSSLGlobalInit()
            info.ssl_cert_filepath = memory.keep(cert)
            info.ssl_private_key_filepath = memory.keep(key)
        }

        LWSLog.configureOnce()
        guard let context = lws_create_context(&info) else {
            if let eventLoop { CWebsockets_destroyEventLoop(eventLoop) }
            if let listener = configuration.sharedListener { close(listener) }
            if configuration.clientOnly { throw TransportError.clientContextFailed }
            throw TransportError.listenFailed(host: configuration.host, port: Int(configuration.port))
        }
        self.pointer = context
        if let listener = configuration.sharedListener {
            listenPort = Int32(CWebsockets_boundPort(listener))
            // Accepted on this context's own loop (checked above), so on its thread.
            guard let started = CWebsockets_startAcceptor(eventLoop!, listener, context, configuration.tlsCertificatePath == nil ? 0 : 1) else {
                // A server context always has its default vhost: only memory can run out.
                preconditionFailure("could not start accepting on the shared listener")
            }
            acceptor = started
        } else {
            listenPort = configuration.clientOnly ? nil : lws_get_vhost_listen_port(lws_get_vhost_by_name(context, "default"))
            acceptor = nil
        }
        self.memory = memory
        self.eventLoop = eventLoop
        waker = eventLoop.flatMap { CWebsockets_startWaker($0) }
    }

    /// Runs one round of the event loop (waits for at least one event, dispatches
    /// callbacks; a wake-up through ``wakeHandle`` is such an event).
    /// - Returns: false when lws's own poll loop reports the context shutting down
    ///   (only with `READSTATES_LWS_POLL`; on libev it returns true).
    func service() -> Bool {
        guard let eventLoop else { return lws_service(pointer, 0) >= 0 }
        CWebsockets_runEventLoopOnce(eventLoop)
        return true
    }

    /// One round that does not wait: handles what is ready, if anything.
    func serviceWithoutWaiting() {
        guard let eventLoop else {
            _ = lws_service(pointer, -1)
            return
        }
        CWebsockets_runEventLoopNoWait(eventLoop)
    }


    /// How other threads wake this context's thread (an `ev_async` on our libev loop,
    /// or `lws_cancel_service` on lws's poll loop); valid until the context is destroyed.
    var wakeHandle: LWSContextHandle {
        LWSContextHandle(context: pointer, loop: eventLoop, waker: waker)
    }

    deinit {
        if let acceptor, let eventLoop { CWebsockets_stopAcceptor(eventLoop, acceptor) }
        if let waker, let eventLoop { CWebsockets_stopWaker(eventLoop, waker) }
        lws_context_destroy(pointer)
        if let eventLoop {
            // Let lws's last watchers run, then free the loop.
            CWebsockets_runEventLoopNoWait(eventLoop)
            CWebsockets_destroyEventLoop(eventLoop)
        }
        // `memory` goes with this object, after the context that pointed into it.
    }
}

/// The C memory a context's creation info points into and lws keeps pointers to for
/// the context's life (a Swift `&array` or a temporary C string would dangle after
/// `lws_create_context` returns): the protocols array, the strings, the retry
/// policy, the foreign-loops array. Freed when its owner lets go: after
/// `lws_context_destroy`, or at once when creating the context fails.
final class PinnedMemory {
    /// The protocols, then the zeroed entry that ends the list (4.1.6 has no
    /// LWS_PROTOCOL_LIST_TERM).
    let protocols: UnsafeMutableBufferPointer<lws_protocols>
    let retryPolicy: UnsafeMutablePointer<lws_retry_bo_t>
    let foreignLoops: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private var strings: [UnsafeMutablePointer<CChar>] = []

    init(protocolCount: Int) {
        protocols = .allocate(capacity: protocolCount + 1)
        protocols.initialize(repeating: lws_protocols())
        retryPolicy = .allocate(capacity: 1)
        retryPolicy.initialize(to: lws_retry_bo_t())
        foreignLoops = .allocate(capacity: 1)
        foreignLoops.initialize(to: nil)
    }

    /// A C copy of `string` that lives as long as this object.
    func keep(_ string: String) -> UnsafePointer<CChar> {
        let copy = strdup(string)!
        strings.append(copy)
        return UnsafePointer(copy)
    }

    deinit {
        protocols.deallocate()
        retryPolicy.deallocate()
        foreignLoops.deallocate()
        strings.forEach { free($0) }
    }
}

extension LWSContext {
    /// Inside a callback: the object the context was created with as its user pointer
    /// (`Configuration.user`), which the context's owner keeps alive.
    static func owner<Owner: AnyObject>(of wsi: OpaquePointer, as type: Owner.Type) -> Owner? {
        guard let raw = lws_context_user(lws_get_context(wsi)) else { return nil }
        return Unmanaged<Owner>.fromOpaque(raw).takeUnretainedValue()
    }
}

/// libwebsockets' own log is global state: set its level once per process.
enum LWSLog {
    private static let configured: Void = {
        // LLL_ERR | LLL_WARN by default; `LWS_LOG` (a bit mask, as lws documents) overrides.
        let level = ProcessInfo.processInfo.environment["LWS_LOG"].flatMap(Int32.init) ?? 3
        CWebsockets_setLogLevel(level)
    }()

    static func configureOnce() {
        _ = configured
    }
}
