public import Cluster
public import Logging
import Prometheus
public import ReadStatesModule
public import Snowflake
import Synchronization

/// The gateway's side of a cluster (`serve --cluster`): which node owns a user's read
/// states, the requests and messages that reach them there, the dispatches that reach
/// sessions on other nodes, channels created elsewhere, and users moving between
/// owners when nodes come and go. The Redis side is ``ClusterNode``.
///
/// Ownership: the live node that wins the user's ID by rendezvous hashing. Only the
/// owner changes a user's read states and writes them to the store; another node asks
/// it (``ReadStateRouter``). When the member set changes, each node drops from its
/// cache the users it no longer owns, writes their changes, then says so to all
/// (`released`); a new owner's loads of those users wait for that (``HandoffGate``).
public final class GatewayCluster: Sendable {
    public let node: ClusterNode
    let engine: ReadStates
    let directory: ChannelDirectory
    let versions: ReadStateVersions
    let gate: HandoffGate
    /// Writes everything pending in the write-behind now (after a release).
    let flush: @Sendable () async throws -> Void
    let logger: Logger
    let figures: Figures
    /// The service threads' inboxes, where dispatches from other nodes go (set by
    /// ``GatewayServer``). Inboxes rather than a stored closure: a closure read out of
    /// a `Mutex` came back wrapped in one more reabstraction thunk per call site, and
    /// the wrappers piled up (88% of a node's CPU at 2,000 events/s in `perf`).
    private let inboxes = Mutex<[ServiceInbox]>([])
    /// Membership changes are handled one after another, in order.
    private let releases = Mutex<Task<Void, Never>?>(nil)

    struct Figures: Sendable {
        let forwarded: Counter
        let forwardFailures: Counter
        let forwardLatency: DurationHistogram
        let ownershipMoves: Counter
        let deliveredIn: Counter
    }

    public init(
        configuration: ClusterNode.Configuration,
        engine: ReadStates,
        directory: ChannelDirectory,
        versions: ReadStateVersions,
        gate: HandoffGate,
        metrics: GatewayMetrics,
        logger: Logger,
        flush: @escaping @Sendable () async throws -> Void,
        fatal: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ClusterError) {
        let target = HandlerTarget()
        var handlers = ClusterNode.Handlers()
        handlers.fatal = fatal
        handlers.message = { from, body in target.cluster?.received(body, from: from) }
        handlers.request = { from, body, reply in
            guard let cluster = target.cluster else { return reply(.failure(.stopped)) }
            cluster.answer(body, from: from, reply: reply)
        }
        handlers.membership = { before, after, leaving in target.cluster?.membershipChanged(from: before, to: after, leaving: leaving) }
        node = try ClusterNode(configuration: configuration, handlers: handlers, logger: logger)
        self.engine = engine
        self.directory = directory
        self.versions = versions
        self.gate = gate
        self.flush = flush
        self.logger = logger
        let registry = metrics.registry
        figures = Figures(
            forwarded: registry.makeCounter(name: "cluster_requests_total", help: "Requests this node sent to a user's owner."),
            forwardFailures: registry.makeCounter(
                name: "cluster_request_failures_total", help: "Requests to an owner that failed (timeout, owner gone, Redis down)."
            ),
            forwardLatency: registry.makeDurationHistogram(
                name: "cluster_request_seconds",
                buckets: [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000, 2_000_000].map { .microseconds($0) },
                help: "From a request to its owner's reply."
            ),
            ownershipMoves: registry.makeCounter(
                name: "cluster_ownership_moves_total", help: "Users this node let go of because another node now owns them."
            ),
            deliveredIn: registry.makeCounter(name: "cluster_dispatches_in_total", help: "Dispatches from other nodes delivered here.")
        )
        metrics.addSource { [node] in
            let statistics = node.statistics
            return [
                ("cluster_messages_out", Double(statistics.messagesOut)),
                ("cluster_messages_in", Double(statistics.messagesIn)),
                ("cluster_redis_reconnects", Double(statistics.reconnects)),
                ("cluster_members", Double(node.members.members.count)),
                ("cluster_membership_changes", Double(statistics.membershipChanges)),
                ("cluster_degraded", node.health == .degraded ? 1 : 0),
            ]
        }
        target.cluster = self
    }

    public var nodeID: String { node.configuration.nodeID }

    /// Joins: returns this node's Snowflake worker number (0-1023) once it is a member.
    public func start() async throws(ClusterError) -> Int {
        try await node.start()
    }

    /// Leaves cleanly: out of the member set at once (the others take this node's users
    /// without waiting for its TTL), every user released and written (the others' loads
    /// wait for that), then the connections closed. Requests that still come are
    /// refused (this node owns no one any more); mentions go on to the new owners.
    /// - Returns: false when what it held could not be written (it is lost).
    @discardableResult
    public func leave() async -> Bool {
        await node.withdraw()
        await releases.withLock { $0 }?.value
        await node.close()
        return !releaseFailed.value
    }

    /// Set when a release's write failed (a clean leave then exits 1).
    private let releaseFailed = AtomicFlag()

    /// The node that owns `user`'s read states (nil before the first member set).
    public func owner(of user: Snowflake) -> Membership.Member? {
        node.members.owner(of: user.rawValue)
    }

    /// Whether this node has left (or is leaving) the member set.
    var isLeaving: Bool { !node.members.contains(nodeID) && !node.members.members.isEmpty }

    /// Whether this node owns `user` (also when no member set is known yet).
    public func isLocal(_ user: Snowflake) -> Bool {
        guard let owner = owner(of: user) else { return true }
        return owner.id == nodeID
    }

    func attach(_ inboxes: [ServiceInbox]) {
        self.inboxes.withLock { $0 = inboxes }
    }

    // MARK: Out

    /// A dispatch delivered here, for the sessions of `target` on the other nodes.
    func publish(_ type: String, target: ClusterDispatchTarget, message: Snowflake?, payload: [UInt8]) {
        node.broadcast(ClusterMessage.dispatch(type: type, target: target, message: message, payload: payload).encoded)
    }

    /// Tells every running node of the cluster on `redis` about a channel saved in the
    /// shared store by a tool that is no node (`readstates channel create --cluster`).
    /// - Returns: how many nodes heard it.
    @discardableResult
    public static func announce(channel: ChatChannel, redis: RedisURL) throws(ClusterError) -> Int {
        try ClusterNode.announce(ClusterMessage.channel(channel).encoded, redis: redis, sender: "readstates-channel")
    }

    /// A channel created or changed here, for the other nodes' directories.
    public func publish(channel: ChatChannel) {
        node.broadcast(ClusterMessage.channel(channel).encoded)
    }

    /// Asks `user`'s owner; the reply's states come versioned in the owner's generation.
    func request(_ message: ClusterMessage, to owner: String) async throws -> ClusterMessage.StatesReply {
        let start = ContinuousClock.now
        figures.forwarded.increment()
        do {
            let bytes = try await node.request(message.encoded, to: owner)
            figures.forwardLatency.record(ContinuousClock.now - start)
            guard let reply = ClusterMessage.StatesReply(decoding: bytes) else { throw ClusterError.redis("an unreadable reply from \(owner)") }
            return reply
        } catch {
            figures.forwardFailures.increment()
            throw error
        }
    }

    /// Mentions for users owned elsewhere: one message per owner.
    func sendMentions(_ users: [Snowflake], channel: Snowflake, message: Snowflake, to owner: String) {
        node.send(ClusterMessage.mentions(users: users, channel: channel, message: message).encoded, to: owner)
    }

    // MARK: In (on the cluster's thread: hand work on)

    private func received(_ body: [UInt8], from sender: String) {
        guard let (message, hops) = ClusterMessage(decoding: body)?.unforwarded else {
            logger.warning("cluster: an unreadable message", metadata: ["from": "\(sender)", "bytes": "\(body.count)"])
            return
        }
        switch message {
        case .dispatch(let type, let target, let messageID, let payload):
            let users: [Snowflake]
            switch target {
            case .users(let list):
                users = list
            case .channel(let channel):
                if let messageID { directory.recordMessage(messageID, in: channel) }
                users = directory.channel(channel)?.members ?? []
            }
            figures.deliveredIn.increment()
            // Spread over the threads by the first user (any thread reaches every
            // session; the connection's thread restores `s` order).
            let inboxes = self.inboxes.withLock { $0 }
            guard !inboxes.isEmpty else { return }
            let thread = Int((users.first?.rawValue ?? 0) % UInt64(inboxes.count))
            inboxes[thread].post(.fromCluster(type: type, users: users, payload: payload))
        case .mentions(let users, let channel, let messageID):
            let router = ReadStateRouter(engine: engine, versions: versions, cluster: self)
            Task { await router.mention(users: users, channel: channel, message: messageID, from: sender, hops: hops) }
        case .channel(let channel):
            directory.add(channel)
        case .released(let membership):
            gate.released(by: sender, membership: membership)
        case .readStates, .ack, .forwarded:
            logger.warning("cluster: a request sent as a message", metadata: ["from": "\(sender)"])
        }
    }

    private func answer(_ body: [UInt8], from sender: String, reply: @escaping @Sendable (Result<[UInt8], ClusterError>) -> Void) {
        guard let decoded = ClusterMessage(decoding: body) else { return reply(.failure(.redis("unreadable request"))) }
        let (message, hops) = decoded.unforwarded
        // Served by this node's engine alone (a router without the cluster, so the
        // check for a move meanwhile is made here).
        let local = ReadStateRouter(engine: engine, versions: versions)
        switch message {
        case .readStates(let user), .ack(let user, _, _, _):
            // Sent by a node whose member set is behind or ahead of this one's: on to
            // the owner this node sees, once.
            guard isLocal(user) else { return forward(message, hops: hops, about: user, from: sender, reply: reply) }
            Task {
                let answer: ClusterMessage.StatesReply
                if case .ack(_, let items, let manual, let mentionCount) = message {
                    let (changes, _, failure) = await local.ack(user: user, items: items, manual: manual, mentionCount: mentionCount)
                    answer = .init(
                        generation: versions.generation, states: changes.map(\.state), updated: changes.map(\.isUpdated),
                        failure: failure.map { "\($0)" }
                    )
                } else {
                    do {
                        answer = .init(generation: versions.generation, states: try await local.readStates(of: user).states, updated: [], failure: nil)
                    } catch {
                        return reply(.failure(.redis("read states unavailable: \(error)")))
                    }
                }
                await releaseIfMovedMeanwhile(user)
                reply(.success(answer.encoded))
            }
        default:
            reply(.failure(.redis("not a request")))
        }
    }

    private func forward(
        _ message: ClusterMessage, hops: UInt8, about user: Snowflake, from sender: String,
        reply: @escaping @Sendable (Result<[UInt8], ClusterError>) -> Void
    ) {
        guard hops == 0, let owner = owner(of: user)?.id, owner != sender, owner != nodeID else {
            return reply(.failure(.redis("not the owner of \(user.rawValue) (the member set is changing; try again)")))
        }
        figures.forwarded.increment()
        node.request(ClusterMessage.forwarded(hops: 1, message).encoded, to: owner, completion: reply)
    }

    /// Mentions the member sets could not agree on an owner for: said in the log (the
    /// one place a mention is lost on purpose, rather than counted by a node that does
    /// not own the user).
    func dropped(_ users: [Snowflake], message: Snowflake) {
        logger.error(
            "cluster: mentions dropped: the member sets did not agree on their owner",
            metadata: ["users": "\(users.map(\.rawValue))", "message": "\(message.rawValue)"]
        )
    }

    /// Mentions for users owned elsewhere, passed on: one message per owner.
    func forwardMentions(_ users: [Snowflake], channel: Snowflake, message: Snowflake, hops: UInt8, to owner: String) {
        node.send(ClusterMessage.forwarded(hops: hops, .mentions(users: users, channel: channel, message: message)).encoded, to: owner)
    }

    /// After an operation that began while this node owned `user`: if the user moved
    /// away meanwhile, the operation may have loaded it back into this cache after its
    /// release. Released again (and written), so that no copy stays here.
    func releaseIfMovedMeanwhile(_ user: Snowflake) async {
        guard !isLocal(user), engine.release(user: user) else { return }
        do {
            try await flush()
        } catch {
            logger.error("cluster: could not write a user that moved away", metadata: ["user": "\(user.rawValue)", "error": "\(error)"])
        }
    }

    /// Users whose owner is now another node leave this cache (and users this node
    /// gained, if a stale copy of one is cached); their changes are written; then every
    /// node hears that this one released for the new member set. When the write
    /// fails, no release is said: the new owners load after their gate's deadline.
    private func membershipChanged(from before: Membership, to after: Membership, leaving: Set<String>) {
        gate.membershipChanged(from: before, to: after, leaving: leaving)
        let me = nodeID
        releases.withLock { previous in
            let earlier = previous
            previous = Task { [engine, flush, figures, logger, node, releaseFailed] in
                await earlier?.value
                let moved = engine.release { user in
                    let owner = after.owner(of: user.rawValue)?.id ?? me
                    let previousOwner = before.members.isEmpty ? me : (before.owner(of: user.rawValue)?.id ?? me)
                    return owner != me || previousOwner != me
                }
                do {
                    try await flush()
                } catch {
                    logger.error("cluster: could not write the states of users moving away", metadata: ["error": "\(error)"])
                    releaseFailed.value = true
                    return
                }
                if moved > 0 {
                    figures.ownershipMoves.increment(by: Int64(moved))
                    logger.info("cluster: users moved to other owners", metadata: ["users": "\(moved)", "members": "\(after.ids.joined(separator: ","))"])
                }
                node.broadcast(ClusterMessage.released(membership: HandoffGate.hash(after)).encoded)
            }
        }
    }
}

/// Where the node's handlers find the cluster once it exists (set once in `init`,
/// before the node starts and so before any handler runs).
private final class HandlerTarget: @unchecked Sendable {
    weak var cluster: GatewayCluster?
}
