import Gateway
import Logging
import ReadStatesModule
import ServiceLifecycle

/// Every second, and once more on graceful shutdown: channels' newest message IDs to
/// the store (a failed write is retried with the next round's).
struct LastMessagesService: Service {
    let directory: ChannelDirectory
    let store: any ChannelStore
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await ServeCommand.recordLastMessages(directory, into: store, logger: logger)
        }
    }
}
