internal import CWebsockets
package import Synchronization

/// Work other threads hand to an lws service thread, and the wake-up that makes the
/// thread drain it between rounds of its loop (``LWSContextHandle``: libev's `ev_async`,
/// or `lws_cancel_service` on lws's own poll loop). The server, the client and the echo
/// server use it.
package final class LWSInbox<Event: Sendable>: Sendable {
    @usableFromInline
    struct State: ~Copyable {
        @usableFromInline var events: [Event] = []
        var context: LWSContextHandle?
        /// The service thread is gone: nothing posted now would be handled.
        var closed = false

        init() {}
    }

    @usableFromInline
    let state = Mutex(State())

    package init() {}

    func attach(_ context: LWSContext) {
        state.withLock { $0.context = context.wakeHandle }
    }

    /// The service thread ends: later posts are refused.
    /// - Returns: the events posted but never drained, for the caller to answer.
    package func detach() -> [Event] {
        state.withLock { state in
            state.context = nil
            state.closed = true
            defer { state.events = [] }
            return state.events
        }
    }

    /// - Returns: false when the service thread is gone (the event is dropped).
    @discardableResult
    package func post(_ event: Event) -> Bool {
        // Every post wakes the thread; libev coalesces wake-ups while one is pending (no
        // system call then), and the thread drains everything after each round.
        // (`lws_cancel_service`, used before, lost wake-ups under load with two service
        // threads once posts woke only an empty inbox: p99 26 ms instead of 1 ms.)
        // The wake-up happens under the lock: `detach` takes the same lock before the
        // service thread destroys the context (and frees its waker and its loop), so a
        // post racing the end of the thread never reaches freed memory.
        state.withLock { state in
            guard !state.closed else { return false }
            state.events.append(event)
            state.context?.wake()
            return true
        }
    }

    /// Everything posted since the last drain, in order. The wake-up also fires for
    /// lws's own reasons, so an empty drain is normal.
    ///
    /// Inlinable so that it is specialized for the caller's `Event`: a service thread
    /// drains after every round of its loop, and unspecialized, each call looked up
    /// the generic metadata of `[Event]` (0.6% of the gateway's CPU in `perf`).
    @inlinable
    package func drain() -> [Event] {
        state.withLock { state in
            guard !state.events.isEmpty else { return [] }
            defer { state.events = [] }
            return state.events
        }
    }
}

/// What wakes a context's thread from another thread: libev's `ev_async` on the
/// context's loop (thread-safe, never loses a wake-up, and free while one is pending),
/// or `lws_cancel_service` when lws runs its own poll loop.
struct LWSContextHandle: @unchecked Sendable {
    private let context: OpaquePointer?
    private let loop: OpaquePointer?
    private let waker: UnsafeMutablePointer<CWebsockets_Waker>?

    init(context: OpaquePointer?, loop: OpaquePointer?, waker: UnsafeMutablePointer<CWebsockets_Waker>?) {
        self.context = context
        self.loop = loop
        self.waker = waker
    }

    func wake() {
        if let loop, let waker {
            CWebsockets_wake(loop, waker)
        } else if let context {
            lws_cancel_service(context)
        }
    }
}
