import Dispatch
public import Logging
import Synchronization

/// This process as a member of a cluster of gateway nodes that meet in Redis.
///
/// - **Membership**: the node registers itself (ID, advertised URL) with a TTL that it
///   refreshes every heartbeat, in one Lua script that also drops members whose TTL ran
///   out and returns the live set. A join or a leave is announced on a channel, so
///   the others refresh at once instead of at their next heartbeat.
/// - **Messages**: each node subscribes to a channel of its own and to one for all.
///   ``send(_:to:)`` and ``broadcast(_:)`` publish there; ``request(_:to:completion:)``
///   waits for a reply with a deadline (never for ever).
/// - **Health**: when Redis is unreachable, the node says so (``Health/degraded``),
///   keeps its last member set, and reconnects on its own; a request fails at once.
///
/// Redis pub/sub delivers at most once: what must not be lost (read states) is owned by
/// one node and written to the shared store; the cluster carries notifications.
///
/// ## Threading
/// Everything Redis runs on a thread of its own (``RedisLoop``): handlers are called
/// there and must hand work on quickly. The public methods may be called from any thread.
public final class ClusterNode: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var redis: RedisURL
        public var nodeID: String
        /// Where clients reach this node: `ws://HOST:PORT/gateway`.
        public var advertiseURL: String
        /// How long a member stays listed without a heartbeat: a node killed is gone
        /// from the others' sets this long after its last heartbeat.
        public var ttlMilliseconds: UInt64 = 3_000
        public var heartbeatMilliseconds: UInt64 = 1_000
        public var requestTimeoutMilliseconds: UInt64 = 2_000
        /// Keys and channels start with this, so clusters can share a Redis. Pub/sub
        /// ignores Redis's database number, so it is part of the default.
        public var prefix: String

        public init(redis: RedisURL, nodeID: String, advertiseURL: String) {
            self.redis = redis
            self.nodeID = nodeID
            self.advertiseURL = advertiseURL
            prefix = redis.keyPrefix
        }
    }

    public enum Health: String, Sendable {
        case healthy
        /// Redis is unreachable: the node serves what it holds alone.
        case degraded
    }

    /// What the node hands to its owner, on the cluster's thread.
    public struct Handlers: Sendable {
        /// Bytes from another node, sent to this one or to all.
        public var message: @Sendable (_ from: String, _ body: [UInt8]) -> Void = { _, _ in }
        /// A request from another node: call `reply` once, from any thread.
        public var request: @Sendable (_ from: String, _ body: [UInt8], _ reply: @escaping @Sendable (Result<[UInt8], ClusterError>) -> Void) -> Void = {
            _, _, reply in reply(.failure(.redis("no request handler")))
        }
        /// The live member set changed (before, after; `leaving`: members gone from
        /// `after` that announced a clean leave, and so release what they held).
        public var membership: @Sendable (_ before: Membership, _ after: Membership, _ leaving: Set<String>) -> Void = { _, _, _ in }
        public var health: @Sendable (Health) -> Void = { _ in }
        /// The node cannot go on safely (its Snowflake worker number was taken by
        /// another node while Redis was away: its IDs would no longer be unique). It
        /// stops heartbeating; its owner should shut down.
        public var fatal: @Sendable (String) -> Void = { _ in }

        public init() {}
    }

    /// Counters for `/metrics`.
    public struct Statistics: Sendable {
        public var messagesOut = 0
        public var messagesIn = 0
        public var requestsOut = 0
        public var requestsFailed = 0
        public var reconnects = 0
        public var membershipChanges = 0
    }

    public let configuration: Configuration
    private let logger: Logger
    private let loop = RedisLoop()
    /// Read from any thread.
    private let snapshot: Mutex<(membership: Membership, health: Health, statistics: Statistics)>
    private let handlers: Handlers

    // Loop-thread state.
    private let commands: RedisConnection
    private let subscriber: RedisConnection
    private var membership = Membership([])
    private var registered = false
    private var leaving = false
    /// Another node holds this node's worker number (``Handlers/fatal``): no heartbeats.
    private var workerLost = false
    private var nextHeartbeat: UInt64 = 0
    private var lastHeartbeatOK: UInt64 = 0
    private var nextRequestID: UInt64 = 1
    private var pending: [UInt64: (deadline: UInt64, node: String, completion: @Sendable (Result<[UInt8], ClusterError>) -> Void)] = [:]
    private var startWaiter: (@Sendable (Result<Int, ClusterError>) -> Void)?
    private var workerNumber: Int?
    private var wasConnected = false
    /// After Redis comes back it knows no members until each has heartbeated again:
    /// until then (one TTL), a member missing from the set is kept unless it said it
    /// left, so that ownership does not churn while the others re-register.
    private var graceUntil: UInt64 = 0
    private var announcedLeaves: Set<String> = []

    private var ownChannel: String { nodeChannel(configuration.nodeID) }
    /// The channel a node listens to for what is sent to it alone.
    private func nodeChannel(_ node: String) -> String { "\(configuration.prefix):node:\(node)" }
    private var allChannel: String { "\(configuration.prefix):all" }
    private var membershipChannel: String { "\(configuration.prefix):membership" }
    private var membersKey: String { "\(configuration.prefix):nodes" }
    private var urlsKey: String { "\(configuration.prefix):urls" }
    private func workerKey(_ number: Int) -> String { "\(configuration.prefix):worker:\(number)" }

    public init(configuration: Configuration, handlers: Handlers, logger: Logger) throws(ClusterError) {
        guard Self.isValidNodeID(configuration.nodeID) else { throw .badNodeID(configuration.nodeID) }
        self.configuration = configuration
        self.handlers = handlers
        self.logger = logger
        snapshot = Mutex((Membership([]), .degraded, Statistics()))
        commands = RedisConnection(url: configuration.redis, loop: loop)
        subscriber = RedisConnection(url: configuration.redis, loop: loop)
        loop.onRound = { [weak self] in self?.round() }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }

    /// 1-64 letters, digits, `-`, `_` and `.` (it names Redis keys and channels).
    public static func isValidNodeID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// Snowflake worker numbers below this are never claimed by a node: one node
    /// without a cluster and the command-line tools use them.
    public static let reservedWorkerNumbers = 4

    // MARK: Any thread

    public var members: Membership { snapshot.withLock { $0.membership } }
    public var health: Health { snapshot.withLock { $0.health } }
    public var statistics: Statistics { snapshot.withLock { $0.statistics } }

    /// Connects, claims a Snowflake worker number no live node holds, registers, and
    /// returns once the node is a member and hears the others.
    /// - Returns: the worker number (0-1023).
    /// - Throws: ``ClusterError`` when Redis does not answer within `timeoutMilliseconds`,
    ///   or the node ID is taken by a live node.
    public func start(timeoutMilliseconds: UInt64 = 10_000) async throws(ClusterError) -> Int {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int, ClusterError>, Never>) in
            loop.perform { [self] in
                startWaiter = { continuation.resume(returning: $0) }
                pendingStartDeadline = Self.now() + timeoutMilliseconds
                commands.onEvent = { [unowned self] in connectionEvent($0, commands: true) }
                subscriber.onEvent = { [unowned self] in connectionEvent($0, commands: false) }
                commands.connect()
                subscriber.connect()
            }
            loop.start(name: "cluster-redis")
        }
        if case .failure = result {
            // Not a member: nothing to leave, only the connections to close.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                loop.perform { [self] in
                    leaving = true
                    commands.close()
                    subscriber.close()
                    continuation.resume()
                }
            }
            closedForGood.store(true, ordering: .releasing)
            loop.stop()
        }
        return try result.get()
    }

    private var pendingStartDeadline: UInt64?
    /// Why start-up has not succeeded yet: what it fails with at its deadline.
    private var lastStartError = ClusterError.redisUnreachable("no answer")

    /// Answers every request still waiting with `error` (on the loop's thread).
    private func failPending(_ error: ClusterError) {
        let waiting = pending
        pending = [:]
        for (_, request) in waiting { request.completion(.failure(error)) }
    }

    /// Publishes `body` to one node.
    public func send(_ body: [UInt8], to node: String) {
        publish(ClusterEnvelope(kind: .message, sender: configuration.nodeID, body: body), to: nodeChannel(node))
    }

    /// Publishes `body` to every other node: one PUBLISH to each other member's own
    /// channel, none when this node is alone. (One PUBLISH to a channel all nodes
    /// share would also come back to the sender, to be decoded and dropped: for two
    /// nodes, twice Redis's deliveries; the shared channel carries only what tools
    /// that are no member announce.)
    public func broadcast(_ body: [UInt8]) {
        let bytes = ClusterEnvelope(kind: .message, sender: configuration.nodeID, body: body).encoded
        loop.perform { [self] in
            for member in membership.members where member.id != configuration.nodeID { publishNow(bytes, to: nodeChannel(member.id)) }
        }
    }

    /// Asks `node`; `completion` runs once, on the cluster's thread, with the reply or
    /// the reason there is none (a timeout, the node not listening, Redis down).
    public func request(_ body: [UInt8], to node: String, completion: @escaping @Sendable (Result<[UInt8], ClusterError>) -> Void) {
        guard !closedForGood.load(ordering: .acquiring) else { return completion(.failure(.stopped)) }
        loop.perform { [self] in
            guard commands.isConnected, !leaving else {
                count { $0.requestsFailed += 1 }
                completion(.failure(leaving ? .stopped : .disconnected))
                return
            }
            let id = nextRequestID
            nextRequestID += 1
            pending[id] = (Self.now() + configuration.requestTimeoutMilliseconds, node, completion)
            count { $0.requestsOut += 1 }
            let envelope = ClusterEnvelope(kind: .request, sender: configuration.nodeID, requestID: id, body: body)
            commands.command([Array("PUBLISH".utf8), Array(nodeChannel(node).utf8), envelope.encoded]) { [self] reply in
                // Nobody subscribed: that node is gone (or not yet listening).
                if reply?.integer == 0, let waiting = pending.removeValue(forKey: id) {
                    count { $0.requestsFailed += 1 }
                    waiting.completion(.failure(.nodeUnreachable(node)))
                }
            }
        }
    }

    public func request(_ body: [UInt8], to node: String) async throws(ClusterError) -> [UInt8] {
        let result = await withCheckedContinuation { continuation in
            request(body, to: node) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Leaves at once: ``withdraw()``, then ``close()``.
    public func leave() async {
        await withdraw()
        await close()
    }

    /// Leaves the member set at once (the others take this node's users without waiting
    /// for its TTL) and stops heartbeating, but stays connected: the membership handler
    /// runs with the set without this node, and what it publishes still goes out.
    public func withdraw() async {
        guard !closedForGood.load(ordering: .acquiring) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.perform { [self] in
                guard !leaving else {
                    logger.warning("cluster: withdraw after leaving began", metadata: ["members": "\(membership.ids.joined(separator: ","))"])
                    return continuation.resume()
                }
                leaving = true
                logger.info("cluster: leaving the member set", metadata: ["connected": "\(commands.isConnected)", "worker": "\(workerNumber.map(String.init) ?? "none")"])
                failPending(.stopped)
                let others = Membership(membership.members.filter { $0.id != configuration.nodeID })
                // Not kept by the grace after a Redis restart (``apply(_:)``): it said so.
                announcedLeaves.insert(configuration.nodeID)
                guard commands.isConnected, let worker = workerNumber else {
                    apply(others)
                    continuation.resume()
                    return
                }
                // Said before it is done, so that no other node sees it gone without
                // knowing it leaves cleanly (and so waits for its release); said again
                // after, so that they refresh at once.
                let leave = ["PUBLISH", membershipChannel, "leave \(configuration.nodeID)"]
                commands.command(leave) { [self] _ in
                    commands.command(
                        ["EVAL", ClusterScripts.leave, "3", membersKey, urlsKey, workerKey(worker), configuration.nodeID]
                    ) { [self] _ in
                        commands.command(leave) { [self] _ in
                            apply(others)
                            continuation.resume()
                        }
                    }
                }
            }
        }
    }

    /// Closes the connections to Redis and ends the cluster's thread (after
    /// ``withdraw()``; without it, the others drop this node when its TTL runs out).
    public func close() async {
        guard !closedForGood.load(ordering: .acquiring) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.perform { [self] in
                leaving = true
                failPending(.stopped)
                continuation.resume()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.perform { [self] in
                subscriber.close()
                // What was published last (a release, replies) still goes out; a Redis
                // that does not take it within 2 s is given up on (``round()``).
                closing = (Self.now() + 2_000, { continuation.resume() })
                commands.closeGracefully { [self] in
                    if let (_, resume) = closing {
                        closing = nil
                        resume()
                    }
                }
            }
        }
        closedForGood.store(true, ordering: .releasing)
        loop.stop()
        updateHealth(.degraded)
    }

    /// A graceful close under way: its deadline, and what to run when it is done.
    private var closing: (deadline: UInt64, resume: () -> Void)?
    /// After ``close()``: requests fail at once (the loop no longer runs their jobs).
    private let closedForGood = Atomic<Bool>(false)

    // MARK: The cluster's thread

    private func count(_ change: (inout Statistics) -> Void) {
        snapshot.withLock { change(&$0.statistics) }
    }

    private func publish(_ envelope: ClusterEnvelope, to channel: String) {
        let bytes = envelope.encoded
        loop.perform { [self] in publishNow(bytes, to: channel) }
    }

    /// On the loop's thread: one PUBLISH (dropped while Redis is away).
    private func publishNow(_ bytes: [UInt8], to channel: String) {
        guard commands.isConnected else { return }
        count { $0.messagesOut += 1 }
        commands.command([Array("PUBLISH".utf8), Array(channel.utf8), bytes]) { _ in }
    }

    private func connectionEvent(_ event: RedisConnection.Event, commands isCommands: Bool) {
        switch event {
        case .connected:
            if isCommands {
                if wasConnected { graceUntil = Self.now() + configuration.ttlMilliseconds }
                if workerNumber == nil { claimWorker() } else { heartbeat() }
            } else {
                subscriber.subscribe([ownChannel, allChannel, membershipChannel]) { [unowned self] channel, payload in
                    received(channel: channel, payload: payload)
                }
                // Joins and leaves missed while away: the next heartbeat brings them.
                nextHeartbeat = 0
            }
            if commands.isConnected && subscriber.isConnected && registered {
                if wasConnected { count { $0.reconnects += 1 } }
                logger.info("cluster: connected to Redis", metadata: ["redis": "\(configuration.redis)"])
            }
        case .disconnected(let reason):
            lastStartError = .redisUnreachable(reason)
            if isCommands {
                failPending(.disconnected)
            }
            if health == .healthy {
                logger.warning(
                    "cluster: Redis is unreachable; serving alone until it is back (degraded)",
                    metadata: ["redis": "\(configuration.redis)", "reason": "\(reason)"]
                )
            }
            updateHealth(.degraded)
        }
    }

    private func claimWorker() {
        let start = Int(Rendezvous.nodeHash(configuration.nodeID) % 1024)
        commands.command(
            [
                "EVAL", ClusterScripts.claimWorker, "0", configuration.prefix, configuration.nodeID, String(configuration.ttlMilliseconds),
                String(start), String(Self.reservedWorkerNumbers),
            ]
        ) { [self] reply in
            guard let number = reply?.integer else {
                if case .error(let message) = reply { finishStart(.failure(.redis(message))) }
                return  // dropped: claimed again on reconnection
            }
            guard number >= 0 else {
                finishStart(.failure(.noWorkerNumber))
                return
            }
            workerNumber = Int(number)
            heartbeat()
        }
    }

    private func heartbeat() {
        guard let worker = workerNumber, commands.isConnected, !leaving, !workerLost else { return }
        nextHeartbeat = Self.now() + configuration.heartbeatMilliseconds
        let joining = !registered
        commands.command(
            [
                "EVAL", ClusterScripts.heartbeat, "3", membersKey, urlsKey, workerKey(worker),
                configuration.nodeID, String(configuration.ttlMilliseconds), configuration.advertiseURL, joining ? "1" : "0",
            ]
        ) { [self] reply in
            switch reply {
            case .array(let parts)?:
                var members: [Membership.Member] = []
                var index = 0
                while index + 1 < parts.count {
                    if let id = parts[index].text, let url = parts[index + 1].text { members.append(.init(id: id, url: url)) }
                    index += 2
                }
                lastHeartbeatOK = Self.now()
                if !registered {
                    registered = true
                    commands.command(["PUBLISH", membershipChannel, "join \(configuration.nodeID)"]) { _ in }
                }
                apply(Membership(members))
                if subscriber.isConnected {
                    if health == .degraded && wasConnected {
                        logger.info("cluster: Redis is back; membership refreshed", metadata: ["members": "\(members.count)"])
                    }
                    wasConnected = true
                    updateHealth(.healthy)
                    finishStart(.success(worker))
                }
            case .error(let message)?:
                if message.contains("NODE_ID_TAKEN") {
                    // A node killed with this ID is listed until its TTL runs out: wait
                    // for that, within start-up's deadline.
                    lastStartError = .nodeIDTaken(configuration.nodeID)
                    nextHeartbeat = Self.now() + 250
                } else if message.contains("WORKER_LOST") {
                    // Its IDs would collide with the other node's: stop, loudly.
                    logger.error("cluster: this node's Snowflake worker number was taken by another node while Redis was away")
                    // No more heartbeats; the shutdown that follows still leaves cleanly
                    // (withdraw, release, write), so the others wait for its release.
                    workerLost = true
                    handlers.fatal("the Snowflake worker number was taken by another node")
                } else {
                    logger.warning("cluster: heartbeat failed", metadata: ["error": "\(message)"])
                }
            default:
                break  // connection dropped: handled by its event
            }
        }
    }

    private func finishStart(_ result: Result<Int, ClusterError>) {
        guard let waiter = startWaiter else { return }
        startWaiter = nil
        pendingStartDeadline = nil
        waiter(result)
    }

    private func apply(_ heard: Membership) {
        let before = membership
        var next = heard
        if Self.now() < graceUntil {
            let kept = before.members.filter { !heard.contains($0.id) && !announcedLeaves.contains($0.id) }
            if !kept.isEmpty { next = Membership(heard.members + kept) }
        }
        let leaving = announcedLeaves.filter { before.contains($0) && !next.contains($0) }
        announcedLeaves = announcedLeaves.filter { next.contains($0) }
        guard next != before else { return }
        membership = next
        snapshot.withLock {
            $0.membership = next
            $0.statistics.membershipChanges += 1
        }
        logger.info("cluster: members", metadata: ["members": "\(next.ids.joined(separator: ","))"])
        handlers.membership(before, next, leaving)
    }

    private func updateHealth(_ health: Health) {
        let changed = snapshot.withLock { state -> Bool in
            defer { state.health = health }
            return state.health != health
        }
        if changed { handlers.health(health) }
    }

    private func received(channel: [UInt8], payload: [UInt8]) {
        if channel.elementsEqual(membershipChannel.utf8) {
            let text = String(decoding: payload, as: UTF8.self)
            if text.hasPrefix("leave ") { announcedLeaves.insert(String(text.dropFirst("leave ".count))) }
            heartbeat()  // someone joined or left: refresh now
            return
        }
        guard let envelope = ClusterEnvelope(decoding: payload), envelope.sender != configuration.nodeID else { return }
        count { $0.messagesIn += 1 }
        switch envelope.kind {
        case .message:
            handlers.message(envelope.sender, envelope.body)
        case .request:
            let sender = envelope.sender, id = envelope.requestID
            handlers.request(sender, envelope.body) { [self] result in
                let reply: ClusterEnvelope
                switch result {
                case .success(let body): reply = ClusterEnvelope(kind: .reply, sender: configuration.nodeID, requestID: id, body: body)
                case .failure(let error): reply = ClusterEnvelope(kind: .failure, sender: configuration.nodeID, requestID: id, body: Array(error.description.utf8))
                }
                publish(reply, to: nodeChannel(sender))
            }
        case .reply, .failure:
            guard let waiting = pending.removeValue(forKey: envelope.requestID) else { return }  // late: timed out
            if envelope.kind == .reply {
                waiting.completion(.success(envelope.body))
            } else {
                count { $0.requestsFailed += 1 }
                waiting.completion(.failure(.redis(String(decoding: envelope.body, as: UTF8.self))))
            }
        }
    }

    /// After every round of the loop: reconnections, the heartbeat, deadlines.
    private func round() {
        let now = Self.now()
        if let (deadline, resume) = closing, now >= deadline {
            closing = nil
            commands.close()
            resume()
        }
        commands.poll(now: now)
        subscriber.poll(now: now)
        if registered || workerNumber != nil, now >= nextHeartbeat { heartbeat() }
        if registered, health == .healthy, now > lastHeartbeatOK + configuration.ttlMilliseconds {
            logger.warning("cluster: no heartbeat answered for a TTL; degraded")
            updateHealth(.degraded)
        }
        if let deadline = pendingStartDeadline, now >= deadline {
            finishStart(.failure(lastStartError))
        }
        if !pending.isEmpty {
            for (id, waiting) in pending where now >= waiting.deadline {
                pending[id] = nil
                count { $0.requestsFailed += 1 }
                waiting.completion(.failure(.requestTimedOut(node: waiting.node)))
            }
        }
    }
}
