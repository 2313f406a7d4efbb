import Gateway
import Logging
import ReadStatesModule
import ServiceLifecycle

/// Every second, and once more on graceful shutdown: channels' newest message IDs to
/// the store (and, in a cluster, to the other nodes) (a failed write is retried with the next round's).
struct LastMessagesService: Service {
    let directory: ChannelDirectory
    let store: any ChannelStore
    /// In a cluster, the other nodes hear of them too (their MESSAGE_CREATEs reach only
    /// the nodes that listen to the channel).
    let cluster: GatewayCluster?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { [cluster] in
            await ServeCommand.recordLastMessages(directory, into: store, logger: logger) { cluster?.publish(lastMessages: $0) }
        }
    }
}
