internal import CWebsockets
import Synchronization

/// Work other threads hand to an lws service thread, and the one lws call they may
/// make: `lws_cancel_service`, which wakes the thread so it drains the inbox (the
/// server in `LWS_CALLBACK_EVENT_WAIT_CANCELLED`, the client and the echo server
/// between rounds of their loop). The server, the client and the echo server use it.
final class LWSInbox<Event: Sendable>: Sendable {
    private struct State: ~Copyable {
        var events: [Event] = []
        var context: LWSContextHandle?
        /// The service thread is gone: nothing posted now would be handled.
        var closed = false
    }

    private let state = Mutex(State())

    func attach(_ context: LWSContext) {
        state.withLock { $0.context = LWSContextHandle(context.pointer) }
    }

    /// The service thread ends: later posts are refused.
    /// - Returns: the events posted but never drained, for the caller to answer.
    func detach() -> [Event] {
        state.withLock { state in
            state.context = nil
            state.closed = true
            defer { state.events = [] }
            return state.events
        }
    }

    /// - Returns: false when the service thread is gone (the event is dropped).
    @discardableResult
    func post(_ event: Event) -> Bool {
        // Every post wakes the thread. Waking only when the inbox was empty (the drain a
        // pending wake-up causes takes everything) was tried on 2026-12-06 and lost
        // wake-ups under load with two service threads (events waited for the next
        // unrelated wake-up: p99 26 ms instead of 1 ms), for a reason not found yet; the
        // handover between threads posts one batch per round of work instead.
        // The wake-up happens under the lock: `detach` takes the same lock before the
        // service thread destroys the context, so a post racing the end of the thread
        // never reaches a freed context (`lws_cancel_service` only writes to a pipe).
        state.withLock { state in
            guard !state.closed else { return false }
            state.events.append(event)
            state.context?.cancelService()
            return true
        }
    }

    /// Everything posted since the last drain, in order. The wake-up also fires for
    /// lws's own reasons, so an empty drain is normal.
    func drain() -> [Event] {
        state.withLock { state in
            guard !state.events.isEmpty else { return [] }
            defer { state.events.removeAll(keepingCapacity: true) }
            return state.events
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
