import Gateway
import Logging
import ReadStatesModule
import ServiceLifecycle

/// The write-behind flusher as a ``Service``: writes changed states once they are
/// `--flush-delay` old; on graceful shutdown, everything still dirty, then `run` returns.
/// A final write that fails is logged with what is lost and thrown
/// (``FinalWriteFailed``): the process exits 1, and the store's run stays marked
/// unclean.
struct FlusherService: Service {
    let writeBehind: WriteBehind
    let engine: ReadStates
    let logger: Logger
    /// Set once the final write succeeded (the store's service marks the run clean then).
    let finalWriteSucceeded: AtomicFlag

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await writeBehind.run(engine: engine) }
            finalWriteSucceeded.value = true
        } catch {
            logger.error(
                "the final write failed: these read states are lost",
                metadata: ["error": "\(error)", "pending": "\(writeBehind.pendingCount)"]
            )
            throw FinalWriteFailed()
        }
    }
}

/// The flusher could not write what was dirty at shutdown.
struct FinalWriteFailed: Error, CustomStringConvertible {
    var description: String { "the final write failed" }
}
