import Gateway
import Logging
import ReadStatesModule
import ServiceLifecycle

/// The store as a ``Service``, first up and last down: on graceful shutdown, after the
/// flusher's final write, it marks the run as ended cleanly (on one node: see
/// ``ServingHistory``) and closes the store's connections.
struct StoreService: Service {
    let store: any ReadStatesStore
    let close: @Sendable () async -> Void
    /// Set by the flusher once its final write succeeded: only then is the run marked
    /// clean and "stopped" said (a failed one has said what is lost).
    let finalWriteSucceeded: AtomicFlag
    /// In a cluster the store's serving history is every node's, not this one's.
    let isClustered: Bool
    let rowsWritten: @Sendable () -> (written: Int, pending: Int)
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        if finalWriteSucceeded.value && !isClustered {
            do {
                try await (store as? any ServingHistory)?.endServing()
            } catch {
                // Nothing is lost; the next run only sends every client the full set once.
                logger.warning("could not mark the run as ended cleanly", metadata: ["error": "\(error)"])
            }
        }
        if finalWriteSucceeded.value {
            let (written, pending) = rowsWritten()
            logger.info("stopped", metadata: ["rows_written": "\(written)", "pending": "\(pending)"])
        }
        await close()
    }
}
