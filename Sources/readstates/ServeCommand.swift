import ArgumentParser
import Cluster
import Dispatch
import Foundation
import Gateway
import Logging
import ReadStatesModule
import ServiceLifecycle
import Snowflake
import Synchronization

/// `readstates serve`: the gateway with the read-state engine and its write-behind
/// flusher in one process.
///
/// On SIGTERM or SIGINT it stops serving (the port closes), writes every dirty read
/// state to the store and exits 0. After `kill -9`, changes younger than the flush
/// delay are lost.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: HTTP API and read-state engine, persisted write-behind.",
        discussion: """
            Exit status: 0 after a clean shutdown (SIGTERM/SIGINT, every dirty read state \
            written); 1 when the store could not take the final writes; 64 for bad options.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port: Int32 = 8080

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Read states the cache holds (memory: ~30 bytes a read state for users of 8 or more; at most 84 bytes per unit of capacity).")
    var cacheCapacity = 8_000_000

    @Option(help: "Longest time a change waits in memory before it is written, e.g. 30s, 500ms is not allowed (whole seconds).")
    var flushDelay = "30s"

    @Option(help: "Nice value (0-19) of the thread the write-behind's store writes (SQLite's work included) run on: higher leaves more CPU to serving.")
    var flusherNice: Int32 = 10

    @Option(help: "File holding the token-signing secret (default: DATA_DIR/secret, created on first start).")
    var secretFile: String?

    @Option(help: "TLS certificate (PEM); with --tls-key the port serves https and wss.")
    var tlsCert: String?

    @Option(help: "TLS private key (PEM).")
    var tlsKey: String?

    @Option(help: "Client payloads a session may send per 60 s before it is closed with 4008 (0: no limit).")
    var rateLimit = 120

    @Option(help: "Service threads, each with its own lws context on the port (default: the number of CPUs).")
    var threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, 64)

    @Flag(help: "On a store with no channels, create a few demo channels and users to try the gateway with.")
    var demo = false

    @Option(help: "Dispatches kept per session for RESUME, in KiB (the newest is always kept).")
    var resumeHistoryKib = 256

    @Option(help: "Dispatches kept for RESUME by all sessions together, in MiB: past it, the sessions waiting longest for a RESUME are forgotten.")
    var resumeMemoryMib = 512

    @Option(help: "Serve the web client from this directory (read on every request) instead of the copy built in: for working on the client.")
    var webRoot: String?

    @Option(help: "Join a cluster of nodes that meet in this Redis: redis://HOST[:PORT][/DB] (needs --store postgres, shared by every node).")
    var cluster: String?

    @Option(help: "This node's ID in the cluster: 1-64 letters, digits, '-', '_', '.' (default: HOSTNAME-PORT).")
    var nodeId: String?

    @Option(help: "Where clients reach this node, for GET /api/gateway (default: ws://HOST:PORT/gateway).")
    var advertiseUrl: String?

    var dataDirectory: URL { URL(fileURLWithPath: storeOptions.dataDir ?? StoreOptions.defaultDataDirectory) }

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard cacheCapacity > 0 else { throw ValidationError("--cache-capacity must be positive") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 (off) or more") }
        guard (1...65_536).contains(resumeHistoryKib) else { throw ValidationError("--resume-history-kib must be from 1 to 65536") }
        guard (1...1_048_576).contains(resumeMemoryMib) else { throw ValidationError("--resume-memory-mib must be from 1 to 1048576") }
        _ = try flushDelaySeconds()
        guard (0...19).contains(flusherNice) else { throw ValidationError("--flusher-nice must be from 0 to 19") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be from 1 to 64") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if let cluster {
            do {
                _ = try RedisURL(parsing: cluster)
            } catch {
                throw ValidationError("--cluster: \(error)")
            }
            guard storeOptions.store == .postgres else {
                throw ValidationError("--cluster needs --store postgres: every node shares one store, and a SQLite file cannot be shared")
            }
            guard port != 0 else { throw ValidationError("--cluster needs a fixed --port: the other nodes send clients to it") }
            guard ClusterNode.isValidNodeID(resolvedNodeID) else {
                throw ValidationError("--node-id takes 1-64 letters, digits, '-', '_' or '.' (got \(resolvedNodeID))")
            }
        } else if nodeId != nil || advertiseUrl != nil {
            throw ValidationError("--node-id and --advertise-url go with --cluster")
        }
        if let webRoot {
            do {
                _ = try WebClientFiles.directory(URL(fileURLWithPath: webRoot))
            } catch {
                throw ValidationError("--web-root: \(error)")
            }
        }
    }

    /// `--node-id`, or HOSTNAME-PORT.
    var resolvedNodeID: String {
        nodeId ?? "\(ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node")-\(port)"
    }

    /// `30`, `30s`, `2m`.
    func flushDelaySeconds() throws -> UInt32 {
        let text = flushDelay.trimmingCharacters(in: .whitespaces)
        let (digits, scale): (Substring, UInt32) =
            text.hasSuffix("m") ? (text.dropLast(), 60) : text.hasSuffix("s") ? (text.dropLast(), 1) : (Substring(text), 1)
        guard let value = UInt32(digits), value <= 86_400 / scale else {
            throw ValidationError("--flush-delay takes whole seconds such as 30s or 2m (at most a day)")
        }
        return value * scale
    }

    func run() async throws {
        // Before anything else: from here on SIGTERM/SIGINT end start-up or serving in
        // order, never kill the process half-way.
        let shutdown = ShutdownSignal.install()
        let logger = {
            var logger = Logger(label: "readstates")
            logger.logLevel = .info
            return logger
        }()
        /// Start-up stops between its steps once a signal has come: nothing half-written.
        func interrupted(_ step: String) -> Bool {
            guard let signal = shutdown.arrived else { return false }
            logger.info("stopped during start-up", metadata: ["signal": "\(signal)", "after": "\(step)"])
            return true
        }
        let tokens = TokenAuthority(
            secret: try ServerSecret.load(secretFile: secretFile, dataDirectory: dataDirectory, createInDataDirectory: true)
        )
        if interrupted("secret") { return }
        let opened = try await storeOptions.open(storeOptions.store ?? .sqlite, defaultDirectory: dataDirectory, logger: logger)
        let writeBehind = WriteBehind(
            store: opened.store,
            delay: try flushDelaySeconds(),
            flusherNice: flusherNice,
            logger: logger
        )
        // In a cluster, loads of users that just moved here wait for their previous
        // owner to have written them (see `HandoffGate`).
        let clusterURL = try cluster.map { try RedisURL(parsing: $0) }
        let nodeID = resolvedNodeID
        let gate = clusterURL.map { _ in HandoffGate(me: nodeID) }
        let engine = ReadStates(
            configuration: .init(capacity: cacheCapacity),
            persistence: gate.map { HandoffPersistence(writeBehind, gate: $0) } ?? writeBehind
        )
        guard let channelStore = opened.store as? any ChannelStore else {
            throw ValidationError("the \(opened.name) store keeps no channels")
        }
        var channels: [ChatChannel]
        do {
            channels = try await channelStore.loadChannels()
        } catch {
            await opened.close()
            throw error
        }
        if interrupted("store opened") {
            await opened.close()
            return
        }
        if demo && channels.isEmpty {
            channels = DemoData.channels
            for channel in channels { try await channelStore.saveChannel(channel) }
            logger.info(
                "demo channels created",
                metadata: [
                    "users": "\(DemoData.users.map { String($0.rawValue) }.joined(separator: ","))",
                    "token": "readstates token --user \(DemoData.users[0].rawValue) --data-dir \(dataDirectory.path)",
                ]
            )
        }
        if interrupted("channels loaded") {
            await opened.close()
            return
        }
        let directory = ChannelDirectory(channels)
        // Marked in the store now; unmarked only after the final write succeeds, so the
        // next run knows whether clients' versions still hold (see `ServingHistory`).
        let versions: ReadStateVersions
        if clusterURL != nil {
            // The serving history is one record for the whole store, which every node
            // shares: a node's versions carry a generation of its own run instead, so a
            // client's partial READY holds while its user's owner runs, and after a move
            // it gets the full set once.
            versions = .random()
        } else if let history = opened.store as? any ServingHistory {
            do {
                versions = ReadStateVersions(generation: try await history.beginServing())
            } catch {
                await opened.close()
                throw error
            }
        } else {
            versions = .random()
        }
        let metrics = GatewayMetrics()
        metrics.addSource {
            let cache = engine.statistics
            let flusher = writeBehind.statistics
            return [
                ("readstates_cache_read_states", Double(cache.readStates)),
                ("readstates_cache_users", Double(cache.users)),
                ("readstates_cache_hits", Double(cache.hits)),
                ("readstates_cache_misses", Double(cache.misses)),
                ("readstates_cache_evicted_users", Double(cache.evictedUsers)),
                ("readstates_cache_dirty_states", Double(cache.dirtyStates)),
                ("readstates_flush_batches", Double(flusher.batchesWritten)),
                ("readstates_flush_rows", Double(flusher.rowsWritten)),
                ("readstates_flush_failures", Double(flusher.failedWrites)),
                ("readstates_flush_pending_states", Double(flusher.pendingStates)),
                ("gateway_channels", Double(directory.count)),
            ]
        }
        var clusterNode: GatewayCluster?
        // A cluster that cannot go on safely (its worker number taken) shuts the node down.
        let fatal = AtomicFlag()
        let groupToStop = GroupToStop()
        var ids = SnowflakeGenerator(worker: 0, process: 1)
        var messageIDs = SnowflakeGenerator(worker: 0, process: 0)
        if let clusterURL, let gate {
            let scheme = tlsCert == nil ? "ws" : "wss"
            let configuration = ClusterNode.Configuration(
                redis: clusterURL, nodeID: nodeID, advertiseURL: advertiseUrl ?? "\(scheme)://\(host):\(port)/gateway"
            )
            do {
                let joined = try GatewayCluster(
                    configuration: configuration, engine: engine, directory: directory, versions: versions, gate: gate, metrics: metrics,
                    logger: logger, flush: { _ = try await writeBehind.flush(from: engine, everything: true) },
                    fatal: { reason in
                        logger.error("shutting down: the node cannot stay in the cluster", metadata: ["reason": "\(reason)"])
                        fatal.value = true
                        Task { await groupToStop.stop() }
                    }
                )
                let worker = try await joined.start()
                // One generator for messages and channels: unique across live nodes.
                ids = SnowflakeGenerator(worker: UInt8(worker >> 5), process: UInt8(worker & 31))
                messageIDs = ids
                clusterNode = joined
                logger.info(
                    "joined the cluster",
                    metadata: ["node": "\(nodeID)", "redis": "\(clusterURL)", "members": "\(joined.node.members.ids.joined(separator: ","))", "worker": "\(worker)"]
                )
            } catch {
                logger.error("could not join the cluster", metadata: ["error": "\(error)"])
                await opened.close()
                throw ExitCode(1)
            }
            if interrupted("joined the cluster") {
                await clusterNode?.leave()
                await opened.close()
                return
            }
        }
        let shared = AtomicFlag()
        // Every session is a file descriptor: allow as many as the hard limit does.
        OpenFileLimit.raise(toAtLeast: OpenFileLimit.hard)
        MallocTuning.keepArenaTops()
        var serverConfiguration = GatewayServer.Configuration(host: host, port: port)
        serverConfiguration.tlsCertificatePath = tlsCert
        serverConfiguration.tlsPrivateKeyPath = tlsKey
        serverConfiguration.session.rateLimit = rateLimit
        serverConfiguration.threads = threads
        serverConfiguration.session.resumeHistory.bytesPerSession = resumeHistoryKib << 10
        serverConfiguration.session.resumeHistory.totalBytes = resumeMemoryMib << 20
        let webClient: WebClientFiles?
        do {
            webClient = try webRoot.map { try WebClientFiles.directory(URL(fileURLWithPath: $0)) } ?? WebClientFiles.embedded()
        } catch {
            // The API and the gateway work without it; say why the page is missing.
            logger.warning("no web client at /", metadata: ["error": "\(error)"])
            webClient = nil
        }
        let server: GatewayServer
        do {
            server = try GatewayServer(
                configuration: serverConfiguration,
                rest: RESTAPI(
                    engine: engine,
                    tokens: tokens,
                    directory: directory,
                    channelStore: channelStore,
                    metrics: metrics,
                    webClient: webClient,
                    versions: versions,
                    cluster: clusterNode,
                    channelIDs: ids,
                    serving: { shared.value }
                ),
                messageIDs: messageIDs
            )
        } catch {
            // The port could not be used: out of the cluster again at once.
            await clusterNode?.leave()
            await opened.close()
            throw error
        }
        shared.value = true
        let scheme = tlsCert == nil ? "http" : "https"
        logger.info(
            "serving",
            metadata: [
                "url": "\(scheme)://\(host):\(server.port)", "store": "\(opened.name)", "data_dir": "\(dataDirectory.path)",
                "threads": "\(threads)",
            ]
        )
        if webClient != nil {
            logger.info("web client: open \(scheme)://\(host):\(server.port)/ in a browser")
        }
        if demo && webClient != nil {
            // One link per demo user, signed in through the fragment (never sent to a server).
            for user in DemoData.users where channels.contains(where: { $0.members.contains(user) }) {
                logger.info("demo user \(user.rawValue): \(scheme)://\(host):\(server.port)/#token=\(tokens.mint(user: user))")
            }
        }

        // The long-running parts, started in this order and shut down in the reverse one:
        // the gateway stops (RECONNECT and 1001 to every session), the last channel
        // messages and then every dirty read state are written, the node leaves its
        // cluster, and the store is marked clean and closed.
        let finalWriteSucceeded = AtomicFlag()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: StoreService(
                    store: opened.store,
                    close: { await opened.close() },
                    finalWriteSucceeded: finalWriteSucceeded,
                    isClustered: clusterNode != nil,
                    rowsWritten: { (writeBehind.statistics.rowsWritten, writeBehind.statistics.pendingStates) },
                    logger: logger
                )
            )
        ]
        if let clusterNode {
            services.append(
                .init(service: ClusterService(cluster: clusterNode, logger: logger), failureTerminationBehavior: .gracefullyShutdownGroup)
            )
        }
        services += [
            .init(
                service: FlusherService(writeBehind: writeBehind, engine: engine, logger: logger, finalWriteSucceeded: finalWriteSucceeded),
                // A failed final write still lets the cluster and the store shut down in order.
                failureTerminationBehavior: .gracefullyShutdownGroup
            ),
            .init(service: LastMessagesService(directory: directory, store: channelStore, logger: logger)),
            .init(service: GatewayService(server: server, serving: shared)),
        ]
        // No signals of the group's own: `ShutdownSignal` has caught SIGTERM and SIGINT
        // since the first line of `run`, start-up included, and triggers the shutdown.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        await groupToStop.set(group)
        Task {
            let signal = await shutdown.wait()
            logger.info("shutting down: no new requests; writing dirty read states", metadata: ["signal": "\(signal)"])
            await group.triggerGracefulShutdown()
        }
        do {
            try await group.run()
        } catch is FinalWriteFailed {
            throw ExitCode(1)
        }
        if !finalWriteSucceeded.value || fatal.value { throw ExitCode(1) }
    }
}

extension ServeCommand {
    /// Every second, and once more when cancelled: channels' newest message IDs to the
    /// store (a failed write is retried with the next round's).
    static func recordLastMessages(_ directory: ChannelDirectory, into store: any ChannelStore, logger: Logger) async {
        var unsaved: [Snowflake: Snowflake] = [:]
        while true {
            let cancelled = Task.isCancelled
            if !cancelled { try? await Task.sleep(for: .seconds(1)) }
            unsaved.merge(directory.takeDirtyLastMessages()) { max($0, $1) }
            do {
                try await Task { [unsaved] in try await store.recordLastMessages(unsaved) }.value
                unsaved = [:]
            } catch {
                logger.warning("channel last-message write failed; retrying", metadata: ["error": "\(error)"])
            }
            if cancelled || Task.isCancelled { return }
        }
    }
}

/// Channels and users for `serve --demo`.
enum DemoData {
    static let users: [Snowflake] = [80_351_110_224_678_912, 80_351_110_224_678_913, 80_351_110_224_678_914]
        .map { Snowflake(rawValue: $0) }
    static let channels: [ChatChannel] = [
        ChatChannel(id: Snowflake(rawValue: 175_928_847_299_117_063), name: "general", members: users),
        ChatChannel(id: Snowflake(rawValue: 175_928_847_299_117_064), name: "random", members: users),
        ChatChannel(id: Snowflake(rawValue: 175_928_847_299_117_065), name: "pair", members: Array(users.prefix(2))),
    ]
}

