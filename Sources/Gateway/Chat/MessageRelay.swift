import ReadStatesModule
import Snowflake
import Synchronization

/// A message to send on the service thread, and where its result goes.
struct MessageRequest: Sendable {
    var user: Snowflake
    var channel: Snowflake
    var content: String
    var nonce: String?
    var reply: @Sendable (Result<MessageCreate, RequestError>) -> Void
}

/// Hands messages (and acks) sent over HTTP to the gateway's service thread, which sends them as
/// it sends SEND_MESSAGE (one path for both: numbering, fan-out, mentions, the author's
/// ack). Attached by ``GatewayServer`` when it starts.
public final class MessageRelay: Sendable {
    private let inbox = Mutex<ServiceInbox?>(nil)

    public init() {}

    func attach(_ inbox: ServiceInbox) {
        self.inbox.withLock { $0 = inbox }
    }

    /// Acks applied over HTTP: the user's sessions get a MESSAGE_ACK per changed state,
    /// as for acks sent on the socket (one hand-over to the service thread for all).
    /// `versions`: the generation of the node whose engine applied them (the owner's).
    func publishAcks(user: Snowflake, changes: [ReadStateChange], manual: Bool, versions: ReadStateVersions? = nil) {
        let changed = changes.filter(\.isUpdated)
        guard !changed.isEmpty, let inbox = inbox.withLock({ $0 }) else { return }
        inbox.post(.acked(user: user, changes: changed, manual: manual, versions: versions))
    }

    /// - Returns: nil when no server is attached (or it stopped).
    func send(user: Snowflake, channel: Snowflake, content: String, nonce: String?) async -> Result<MessageCreate, RequestError>? {
        // (A stopped server's inbox refuses the post, so the continuation always resumes.)
        guard let inbox = inbox.withLock({ $0 }), !inbox.isStopping else { return nil }
        return await withCheckedContinuation { continuation in
            let request = MessageRequest(user: user, channel: channel, content: content, nonce: nonce) {
                continuation.resume(returning: $0)
            }
            if !inbox.post(.sendMessage(request)) { continuation.resume(returning: nil) }
        }
    }
}
