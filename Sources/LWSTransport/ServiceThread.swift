import Foundation
package import Synchronization

/// The thread an lws context lives on (server, echo server, client): it sets itself up
/// (creates its context), tells the starter whether that worked, then serves until its
/// loop ends. libwebsockets wants the context created, serviced and destroyed on one
/// thread, and a thread of its own keeps it off Swift's task pool.
package struct ServiceThread: Sendable {
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the thread and returns once `setUp` has run there.
    /// - Parameters:
    ///   - setUp: on the new thread; what it returns is handed to `serve`. Throwing
    ///     ends the thread, and `start` throws the same error.
    ///   - serve: on the new thread, until the context is done with. It must destroy the
    ///     context before returning (the state object owns it and sets it to nil):
    ///     `State` is released only after `serve` returns, and a context destroyed in
    ///     that release would call back into objects already freed.
    package init<State>(
        name: String,
        setUp: @escaping @Sendable () throws(TransportError) -> State,
        serve: @escaping @Sendable (State) -> Void
    ) throws(TransportError) {
        let failure = Mutex<TransportError?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let finished = finished
        let thread = Thread {
            defer { finished.signal() }
            let state: State
            do throws(TransportError) {
                state = try setUp()
            } catch {
                failure.withLock { $0 = error }
                ready.signal()
                return
            }
            ready.signal()
            serve(state)
        }
        thread.name = name
        thread.start()
        ready.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Blocks until the thread has ended; any number of callers, any number of times.
    package func wait() {
        finished.wait()
        finished.signal()
    }
}

/// The port a service thread's server listens on, handed to the thread that started it.
package final class ListeningPort: Sendable {
    package let port = Atomic<Int32>(0)

    package init() {}
}
