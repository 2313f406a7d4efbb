import Foundation
import Gateway
import ServiceLifecycle

/// The gateway's service threads as a ``Service``: they serve from the moment the server
/// was created; on graceful shutdown the API says 503, every session gets RECONNECT
/// (op 7) and close 1001, and `run` returns once every thread is gone.
struct GatewayService: Service {
    let server: GatewayServer
    /// What `/health` and the `/api` routes read: false from the shutdown on.
    let serving: AtomicFlag

    func run() async throws {
        // Cancellation (another service failed) ends serving just the same.
        try? await gracefulShutdown()
        serving.value = false
        // `stop()` joins the service threads: on a thread of its own, not the pool's.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                server.stop()
                continuation.resume()
            }.start()
        }
    }
}
