import Cluster
public import LWSTransport
import Foundation
public import ReadStatesModule
public import Snowflake
import Synchronization

/// The HTTP routes beside the WebSocket: health and read states. Pure request in,
/// response out, so it is tested without sockets; the transport calls it off its
/// service thread.
///
/// | route | |
/// |---|---|
/// | `GET /`, `GET /app.js`, … | the web client (``WebClientFiles``), when one is given |
/// | `GET /metrics` | Prometheus text: connections, dispatches by event, READY build time, cache figures, flusher figures |
/// | `GET /health` | 200 and cache figures once serving, 503 while starting or stopping |
/// | `/api/…` | 503 while starting or stopping: a load balancer or client retries elsewhere |
/// | `GET /api/gateway` | `{"url": "ws://…/gateway"}`: where the caller's sessions should connect (in a cluster, the node that owns the caller's read states) |
/// | `GET /api/users/@me/read-states[?since=N]` | the caller's read states (since version N: the changed ones, `"partial": true`) |
/// | `POST /api/channels` | create a channel (admin token) |
/// | `POST /api/channels/{channel_id}/messages` | send a message (members only) |
/// | `POST /api/read-states/ack-bulk` | `{"read_states": [{"channel_id", "message_id"}]}` (1 to 100): BULK_ACK's twin; 403 if any channel is not the user's, and then nothing changes |
/// | `POST /api/channels/{channel_id}/messages/{message_id}/ack` | ack (members only: 403 otherwise); optional body `{"manual": true, "mention_count": n}` |
///
/// `/api/…` routes take a token (`readstates token`) in `Authorization`.
public struct RESTAPI: Sendable {
    public let engine: ReadStates
    public let tokens: TokenAuthority
    public let directory: ChannelDirectory
    /// Where new channels are saved (nil: channels cannot be created over HTTP).
    public let channelStore: (any ChannelStore)?
    public let metrics: GatewayMetrics
    /// Sends messages through the running gateway (attached by ``GatewayServer``).
    public let messages = MessageRelay()
    /// Mints the IDs of channels created over HTTP (in a cluster, the node's generator,
    /// whose worker number no other live node holds).
    private let channelIDs: SnowflakeGenerator
    /// Whether the server is serving: while it is not (starting, or stopping after a
    /// signal), `/health` and every `/api/…` route answer 503.
    public let serving: @Sendable () -> Bool
    /// The web client served at `/` (nil: none).
    public let webClient: WebClientFiles?
    /// How versions go to clients (the store's generation), here and on the gateway.
    public let versions: ReadStateVersions
    /// The node's cluster (`serve --cluster`), nil on one node.
    public let cluster: GatewayCluster?
    /// Read states here or at their owner.
    public var router: ReadStateRouter { ReadStateRouter(engine: engine, versions: versions, cluster: cluster) }
    /// This node's own gateway URL, for `GET /api/gateway` on one node (set once the
    /// port is known).
    let gatewayURL = OwnURL()
    /// Largest request body accepted.
    /// (16 KiB, as a gateway frame: a bulk ack of 100 states takes about 8 KiB.)
    public static let maximumBodyBytes = 16 * 1024

    public init(
        engine: ReadStates,
        tokens: TokenAuthority,
        directory: ChannelDirectory,
        channelStore: (any ChannelStore)? = nil,
        metrics: GatewayMetrics = GatewayMetrics(),
        webClient: WebClientFiles? = nil,
        versions: ReadStateVersions = .random(),
        cluster: GatewayCluster? = nil,
        channelIDs: SnowflakeGenerator = SnowflakeGenerator(worker: 0, process: 1),
        serving: @escaping @Sendable () -> Bool
    ) {
        self.channelIDs = channelIDs
        self.versions = versions
        self.cluster = cluster
        self.webClient = webClient
        self.channelStore = channelStore
        self.metrics = metrics
        self.engine = engine
        self.tokens = tokens
        self.directory = directory
        self.serving = serving
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true)
        if parts.first == "api" && !serving() {
            // Stopping: take no new work; what was acknowledged before is flushed.
            return .error(503, "the server is not serving (starting or stopping); try again or another node")
        }
        switch (request.method, parts) {
        case ("GET", ["health"]):
            return health()
        case ("GET", ["metrics"]):
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4", body: metrics.scrape())
        case ("GET", ["api", "gateway"]):
            return await withUser(request) { user in gateway(for: user) }
        case ("GET", ["api", "users", "@me", "read-states"]):
            return await withUser(request) { user in await readStates(of: user, since: request.queryArgument("since")) }
        case ("POST", let parts) where parts.count == 6 && parts[0] == "api" && parts[1] == "channels"
            && parts[3] == "messages" && parts[5] == "ack":
            return await withUser(request) { user in
                await ack(user: user, channel: parts[2], message: parts[4], body: request.body)
            }
        case ("POST", ["api", "channels"]):
            return await createChannel(request)
        case ("POST", ["api", "read-states", "ack-bulk"]):
            return await withUser(request) { user in await bulkAck(user: user, body: request.body) }
        case ("POST", let parts) where parts.count == 4 && parts[0] == "api" && parts[1] == "channels" && parts[3] == "messages":
            return await withUser(request) { user in await sendMessage(from: user, channel: parts[2], body: request.body) }
        case (_, ["health"]), (_, ["api", "users", "@me", "read-states"]), (_, ["api", "channels"]),
            (_, ["api", "read-states", "ack-bulk"]):
            return .error(405, "method not allowed")
        case ("GET", _) where webClient != nil && parts.first != "api":
            return webClient?.respond(to: request) ?? .error(404, "no route for \(request.method) \(request.path)")
        default:
            return .error(404, "no route for \(request.method) \(request.path)")
        }
    }

    private func health() -> HTTPResponse {
        guard serving() else { return .error(503, "not serving") }
        let statistics = engine.statistics
        return .json(
            Health(
                status: "ok", readStates: statistics.readStates, users: statistics.users,
                cluster: cluster.map { $0.node.health == .healthy ? "ok" : "degraded" }, node: cluster?.nodeID,
                members: cluster?.node.members.ids
            )
        )
    }

    /// `GET /api/gateway`: the URL the caller's sessions should use. In a cluster, the
    /// owner of the caller's read states (its sessions there skip a hop); the node's
    /// own URL on one node, or while no owner is known.
    private func gateway(for user: Snowflake) -> HTTPResponse {
        let url = cluster?.owner(of: user)?.url ?? gatewayURL.value
        return .json(GatewayURL(url: url))
    }

    private func withUser(_ request: HTTPRequest, _ body: (Snowflake) async -> HTTPResponse) async -> HTTPResponse {
        guard let token = request.authorization, !token.isEmpty else {
            return .error(401, "missing Authorization header (a token from `readstates token`)")
        }
        do {
            return await body(try tokens.verify(token))
        } catch {
            return .error(401, "invalid token: \(error)")
        }
    }

    /// `POST /api/channels` with `Authorization: <admin token>` and
    /// `{"name": "general", "members": ["1", "2"], "id"?: "…"}`: 201 and the channel.
    private func createChannel(_ request: HTTPRequest) async -> HTTPResponse {
        guard let token = request.authorization, tokens.isAdmin(token) else {
            return .error(401, "creating channels needs the admin token (`readstates token --admin`)")
        }
        guard let channelStore else { return .error(503, "this server's store keeps no channels") }
        guard request.body.count <= Self.maximumBodyBytes,
            let body = try? GatewayJSON.decoder.decode(NewChannel.self, from: Data(request.body))
        else {
            return .error(400, "the body must be {\"name\": \"...\", \"members\": [\"user id\", ...]}")
        }
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count), (1...1000).contains(body.members.count) else {
            return .error(400, "a channel needs a name of 1-100 characters and 1-1000 members")
        }
        let channel = ChatChannel(id: body.id ?? channelIDs.next(), name: name, members: body.members)
        do {
            try await channelStore.saveChannel(channel)
        } catch {
            return .error(503, "the channel could not be saved: \(error)")
        }
        directory.add(channel)
        cluster?.publish(channel: channel)
        return .json(directory.channel(channel.id).map(ChannelBody.init) ?? ChannelBody(channel), status: 201)
    }

    /// `POST /api/channels/{id}/messages` with `{"content": "...", "nonce"?: "..."}`: sent
    /// as SEND_MESSAGE would be; 200 and the MESSAGE_CREATE payload.
    private func sendMessage(from user: Snowflake, channel: Substring, body: [UInt8]) async -> HTTPResponse {
        guard let channelID = Snowflake(String(channel)) else { return .error(400, "\(channel) is not a Snowflake") }
        guard body.count <= Self.maximumBodyBytes, let message = try? GatewayJSON.decoder.decode(NewMessage.self, from: Data(body)),
            (1...ClientPayload.maximumContentCharacters).contains(message.content.count)
        else {
            return .error(400, "the body must be {\"content\": \"1 to \(ClientPayload.maximumContentCharacters) characters\"}")
        }
        switch await messages.send(user: user, channel: channelID, content: message.content, nonce: message.nonce) {
        case .success(let created):
            var writer = JSONWriter()
            created.write(to: &writer)
            return HTTPResponse(status: 200, contentType: "application/json", body: writer.bytes)
        case .failure(let error):
            return .refused(error)
        case nil:
            return .error(503, "the gateway is not running")
        }
    }

    /// `?since=N`: only the states changed after version N, as a partial READY
    /// (``ReadStateList/init(_:versions:since:)``).
    private func readStates(of user: Snowflake, since: Substring?) async -> HTTPResponse {
        var clientVersion: UInt64?
        if let since {
            guard let version = UInt64(since), version < 1 << 53 else {
                return .error(400, "since must be a read-state version (0 to 2^53-1)")
            }
            clientVersion = version
        }
        do {
            let (states, versions) = try await router.readStates(of: user)
            return .json(ReadStateList(states, versions: versions, since: clientVersion))
        } catch {
            return .error(503, "read states unavailable: \(error)")
        }
    }

    private func ack(user: Snowflake, channel: Substring, message: Substring, body: [UInt8]) async -> HTTPResponse {
        let channelID: Snowflake, messageID: Snowflake
        do {
            channelID = try Snowflake.parse(channel)
            messageID = try Snowflake.parse(message)
        } catch {
            return .error(400, "\(error)")
        }
        var options = AckOptions()
        if !body.isEmpty {
            guard body.count <= Self.maximumBodyBytes else { return .error(413, "body over \(Self.maximumBodyBytes) bytes") }
            do {
                options = try GatewayJSON.decoder.decode(AckOptions.self, from: Data(body))
            } catch {
                return .error(400, "the body must be {\"manual\": bool, \"mention_count\": 0-65535}")
            }
        }
        guard (0...Int(ReadState.maximumMentionCount)).contains(options.mentionCount ?? 0) else {
            return .error(400, "mention_count must be from 0 to \(ReadState.maximumMentionCount)")
        }
        guard directory.isMember(user, of: channelID) else {
            return .refused(.missingAccess(channelID, op: .ack))
        }
        let manual = options.manual ?? false
        let (changes, versions, failure) = await router.ack(
            user: user, items: [.init(channel: channelID, message: messageID)], manual: manual, mentionCount: options.mentionCount ?? 0
        )
        messages.publishAcks(user: user, changes: changes, manual: manual, versions: versions)
        guard let change = changes.first, failure == nil else {
            return .error(503, "read states unavailable: \(failure.map { "\($0)" } ?? "no answer")")
        }
        return .json(MessageAck(change, manual: manual, versions: versions))
    }
}

extension RESTAPI {
    /// `POST /api/read-states/ack-bulk`: BULK_ACK over HTTP. Every entry is checked
    /// before any is applied (a bad ID 400, a channel the user is not in 403: nothing
    /// changes); then each is acked as a plain ack, the user's sessions get a
    /// MESSAGE_ACK per changed state, and the answer lists every entry's state.
    func bulkAck(user: Snowflake, body: [UInt8]) async -> HTTPResponse {
        let usage = "the body must be {\"read_states\": [{\"channel_id\": \"…\", \"message_id\": \"…\"}]} with 1 to \(ClientPayload.maximumBulkAcks) entries"
        guard let request = try? GatewayJSON.decoder.decode(BulkAckBody.self, from: Data(body)) else {
            return .error(400, usage)
        }
        guard (1...ClientPayload.maximumBulkAcks).contains(request.readStates.count) else { return .error(400, usage) }
        for entry in request.readStates where !directory.isMember(user, of: entry.channelId) {
            return .refused(.missingAccess(entry.channelId, op: .bulkAck))
        }
        let (changes, versions, failure) = await router.ack(
            user: user, items: request.readStates.map { .init(channel: $0.channelId, message: $0.messageId) }
        )
        // Those applied before a failure stand, and the sessions hear of them.
        messages.publishAcks(user: user, changes: changes, manual: false, versions: versions)
        if let failure { return .error(503, "read states unavailable: \(failure)") }
        return .json(BulkAckAnswer(readStates: changes.map { MessageAck($0, manual: false, versions: versions) }))
    }
}

private struct BulkAckBody: Decodable {
    struct Entry: Decodable {
        var channelId: Snowflake
        var messageId: Snowflake
    }

    var readStates: [Entry]
}

private struct BulkAckAnswer: Encodable {
    var readStates: [MessageAck]
}

private struct Health: Encodable {
    var status: String
    var readStates: Int
    var users: Int
    /// In a cluster: "ok", or "degraded" while Redis is unreachable (the node serves
    /// the users it owns alone).
    var cluster: String?
    var node: String?
    var members: [String]?
}

/// The node's own gateway URL, known once its port is.
final class OwnURL: Sendable {
    private let url = Mutex("")
    var value: String {
        get { url.withLock { $0 } }
        set { url.withLock { $0 = newValue } }
    }
}

private struct GatewayURL: Encodable {
    var url: String
}

private struct NewMessage: Decodable {
    var content: String
    var nonce: String?
}

private struct NewChannel: Decodable {
    var id: Snowflake?
    var name: String
    var members: [Snowflake]
}

private struct ChannelBody: Encodable {
    var id: Snowflake
    var name: String
    var members: [Snowflake]
    var lastMessageId: Snowflake?

    init(_ channel: ChatChannel) {
        id = channel.id
        name = channel.name
        members = channel.members
        lastMessageId = channel.lastMessageID
    }
}

private struct AckOptions: Decodable {
    var manual: Bool?
    var mentionCount: Int?
}
