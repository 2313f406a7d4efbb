import Gateway
import Logging
import ServiceLifecycle

/// This node's membership of the cluster as a ``Service``: joined during start-up; on
/// graceful shutdown (after the gateway has stopped and the flusher has written
/// everything) it leaves at once, releasing and writing what came meanwhile, so the
/// other nodes take its users without waiting for its TTL.
struct ClusterService: Service {
    let cluster: GatewayCluster
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        guard await cluster.leave() else {
            logger.error("left the cluster, but the states of users that came meanwhile could not be written: they are lost")
            throw FinalWriteFailed()
        }
        logger.info("left the cluster", metadata: ["node": "\(cluster.nodeID)"])
    }
}
