public import Logging
public import ReadStatesModule
public import Snowflake
import PostgresNIO

/// The store for shared deployments: PostgreSQL through postgres-nio's pooled
/// `PostgresClient`.
///
/// A batch is one `INSERT … SELECT FROM UNNEST(…)` statement with five array
/// parameters, whatever its size, so the server parses and plans it once; rows whose
/// stored version is at least the written one are kept (`WHERE excluded.version >`),
/// so a write that lands late never moves a state backwards. Snowflakes are stored in
/// `bigint` columns with the same bits.
///
/// Every call is bounded by ``Configuration/timeout``: while the server is down,
/// postgres-nio's pool waits for a connection rather than failing, and the
/// write-behind flusher must see a failure to back off and keep the data pending.
public final class PostgresReadStatesStore: ReadStatesStore, ChannelStore, ServingHistory {
    public struct Configuration: Sendable {
        /// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
        public var url: PostgresURL
        /// Upper bound for one load or one batch write, connection wait included.
        public var timeout: Duration = .seconds(10)
        /// Connections in the pool.
        public var maximumConnections = 8

        public init(url: PostgresURL) {
            self.url = url
        }
    }

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let timeout: Duration
    private let logger: Logger

    /// Connects, and creates or migrates the schema (under an advisory lock, so
    /// several gateways starting at once migrate once).
    public init(configuration: Configuration, logger: Logger = Logger(label: "readstates.postgres")) async throws {
        var clientConfiguration = PostgresClient.Configuration(
            host: configuration.url.host,
            port: configuration.url.port,
            username: configuration.url.username,
            password: configuration.url.password,
            database: configuration.url.database,
            tls: configuration.url.tls
        )
        clientConfiguration.options.maximumConnections = configuration.maximumConnections
        clientConfiguration.options.connectTimeout = configuration.timeout
        // The pool logs each failed connection attempt at info; while the server is down
        // that is several lines a second. The write-behind flusher logs the outage.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: background)
        self.client = client
        self.timeout = configuration.timeout
        self.logger = logger
        runner = Task { await client.run() }
        do {
            try await bounded { try await PostgresSchema.migrate(client, logger: logger) }
        } catch {
            runner.cancel()
            throw error
        }
    }

    deinit {
        runner.cancel()
    }

    /// Closes the pool's connections.
    public func shutdown() async {
        runner.cancel()
        await runner.value
    }

    public func load(user: Snowflake) async throws -> [ReadState] {
        let userID = Int64(bitPattern: user.rawValue)
        return try await bounded {
            let rows = try await self.client.query(
                """
                SELECT channel_id, last_message_id, mention_count, version
                FROM read_states WHERE user_id = \(userID)
                """,
                logger: self.logger
            )
            var states: [ReadState] = []
            for try await (channel, message, mentions, version) in rows.decode((Int64, Int64, Int32, Int64).self) {
                states.append(
                    ReadState(
                        channelID: Snowflake(rawValue: UInt64(bitPattern: channel)),
                        lastMessageID: Snowflake(rawValue: UInt64(bitPattern: message)),
                        mentionCount: Int(mentions),
                        version: UInt32(truncatingIfNeeded: version)
                    )
                )
            }
            return states
        }
    }

    public func write(_ states: [UserReadState]) async throws {
        // `ON CONFLICT DO UPDATE` refuses to touch one row twice in a statement: keep
        // the newest version of each (user, channel) in the batch.
        var newest = ReadStatesByUser()
        for item in states { newest.keepNewer(item.state, of: item.userID) }
        guard !newest.isEmpty else { return }
        let columns = Columns(newest)
        let (users, channels, messages, mentions, versions) = (
            columns.users, columns.channels, columns.messages, columns.mentions, columns.versions
        )
        try await bounded {
            try await self.client.query(
                """
                INSERT INTO read_states (user_id, channel_id, last_message_id, mention_count, version)
                SELECT * FROM UNNEST(\(users)::int8[], \(channels)::int8[], \(messages)::int8[], \(mentions)::int4[], \(versions)::int8[])
                ON CONFLICT (user_id, channel_id) DO UPDATE SET
                    last_message_id = excluded.last_message_id,
                    mention_count = excluded.mention_count,
                    version = excluded.version
                WHERE excluded.version > read_states.version
                """,
                logger: self.logger
            )
        }
    }

    // MARK: ServingHistory

    public func beginServing() async throws -> UInt32 {
        let logger = logger
        return try await bounded {
            try await self.client.withTransaction(logger: logger) { connection in
                var stored: (Int64, Bool)?
                let rows = try await connection.query(
                    "SELECT generation, serving FROM serving_history WHERE id = 1 FOR UPDATE",
                    logger: logger
                )
                for try await row in rows.decode((Int64, Bool).self) { stored = row }
                let generation = ServingGeneration.begin(
                    stored: stored.map { UInt32(truncatingIfNeeded: $0.0) },
                    wasServing: stored?.1 ?? false
                )
                let value = Int64(generation)
                try await connection.query(
                    """
                    INSERT INTO serving_history (id, generation, serving) VALUES (1, \(value), true)
                    ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, serving = true
                    """,
                    logger: logger
                )
                return generation
            }
        }
    }

    public func endServing() async throws {
        try await bounded {
            try await self.client.query("UPDATE serving_history SET serving = false WHERE id = 1", logger: self.logger)
        }
    }

    // MARK: ChannelStore

    public func loadChannels() async throws -> [ChatChannel] {
        try await bounded {
            var members: [Int64: [Snowflake]] = [:]
            let memberRows = try await self.client.query("SELECT channel_id, user_id FROM channel_members", logger: self.logger)
            for try await (channel, user) in memberRows.decode((Int64, Int64).self) {
                members[channel, default: []].append(Snowflake(rawValue: UInt64(bitPattern: user)))
            }
            var channels: [ChatChannel] = []
            let rows = try await self.client.query("SELECT id, name, last_message_id FROM channels", logger: self.logger)
            for try await (id, name, last) in rows.decode((Int64, String, Int64?).self) {
                channels.append(
                    ChatChannel(
                        id: Snowflake(rawValue: UInt64(bitPattern: id)),
                        name: name,
                        members: members[id] ?? [],
                        lastMessageID: last.map { Snowflake(rawValue: UInt64(bitPattern: $0)) }
                    )
                )
            }
            return channels
        }
    }

    public func saveChannel(_ channel: ChatChannel) async throws {
        let id = Int64(bitPattern: channel.id.rawValue)
        let name = channel.name
        let last = channel.lastMessageID.map { Int64(bitPattern: $0.rawValue) }
        let members = Set(channel.members).map { Int64(bitPattern: $0.rawValue) }
        let logger = logger
        try await bounded {
            try await self.client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO channels (id, name, last_message_id) VALUES (\(id), \(name), \(last))
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                        last_message_id = greatest(channels.last_message_id, excluded.last_message_id)
                    """,
                    logger: logger
                )
                try await connection.query("DELETE FROM channel_members WHERE channel_id = \(id)", logger: logger)
                try await connection.query(
                    "INSERT INTO channel_members (channel_id, user_id) SELECT \(id), unnest(\(members)::int8[])",
                    logger: logger
                )
            }
        }
    }

    public func recordLastMessages(_ lastMessages: [Snowflake: Snowflake]) async throws {
        guard !lastMessages.isEmpty else { return }
        let channels = lastMessages.keys.map { Int64(bitPattern: $0.rawValue) }
        let messages = lastMessages.keys.map { Int64(bitPattern: lastMessages[$0]!.rawValue) }
        try await bounded {
            try await self.client.query(
                """
                UPDATE channels SET last_message_id = batch.message
                FROM UNNEST(\(channels)::int8[], \(messages)::int8[]) AS batch(channel, message)
                WHERE channels.id = batch.channel
                  AND (channels.last_message_id IS NULL OR channels.last_message_id < batch.message)
                """,
                logger: self.logger
            )
        }
    }

    /// A batch as one array per column, for `UNNEST`.
    private struct Columns {
        var users: [Int64] = [], channels: [Int64] = [], messages: [Int64] = []
        var mentions: [Int32] = [], versions: [Int64] = []

        init(_ states: ReadStatesByUser) {
            for (user, byChannel) in states {
                for state in byChannel.values {
                    users.append(Int64(bitPattern: user.rawValue))
                    channels.append(Int64(bitPattern: state.channelID.rawValue))
                    messages.append(Int64(bitPattern: state.lastMessageID.rawValue))
                    mentions.append(Int32(clamping: state.mentionCount))
                    versions.append(Int64(state.version))
                }
            }
        }
    }

    /// Runs `body`, failing with ``PostgresStoreError/timedOut`` after ``timeout``
    /// (the body is cancelled, which withdraws a pending connection lease).
    private func bounded<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw PostgresStoreError.timedOut(timeout)
            }
            return result
        }
    }
}
