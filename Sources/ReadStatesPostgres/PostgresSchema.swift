import Logging
import PostgresNIO

/// The schema, versioned: each migration runs once, in order, recorded in
/// `readstates_migrations`; migration names match the SQLite store's.
enum PostgresSchema {
    /// (name, statements). Append new migrations; never edit a released one.
    static let migrations: [(name: String, statements: [PostgresQuery])] = [
        (
            "v1-read-states",
            [
                """
                CREATE TABLE read_states (
                    user_id bigint NOT NULL,
                    channel_id bigint NOT NULL,
                    last_message_id bigint NOT NULL,
                    mention_count integer NOT NULL,
                    version bigint NOT NULL,
                    PRIMARY KEY (user_id, channel_id)
                )
                """
            ]
        ),
        (
            "v2-channels",
            [
                """
                CREATE TABLE channels (
                    id bigint PRIMARY KEY,
                    name text NOT NULL,
                    last_message_id bigint
                )
                """,
                """
                CREATE TABLE channel_members (
                    channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                    user_id bigint NOT NULL,
                    PRIMARY KEY (channel_id, user_id)
                )
                """,
            ]
        ),
        (
            "v3-serving-history",
            [
                // One row (see `ServingHistory`): written when a run begins and when it ends.
                """
                CREATE TABLE serving_history (
                    id integer PRIMARY KEY CHECK (id = 1),
                    generation bigint NOT NULL,
                    serving boolean NOT NULL
                )
                """
            ]
        ),
    ]

    /// An arbitrary constant naming our advisory lock.
    private static let lockKey: Int64 = 0x7265_6164_7374_6174

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS readstates_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM readstates_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(statement, logger: logger)
                }
                try await connection.query(
                    "INSERT INTO readstates_migrations (name) VALUES (\(migration.name))",
                    logger: logger
                )
                logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            }
        }
    }
}
