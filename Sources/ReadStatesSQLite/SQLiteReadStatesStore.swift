public import Foundation
import GRDB
public import ReadStatesModule
public import Snowflake

/// The embedded default store: one SQLite file (WAL mode) under the data directory.
///
/// GRDB's `DatabasePool` serializes writes and runs reads concurrently beside them.
/// Loads and channel changes run on GRDB's threads (callers await, none of theirs
/// blocks on I/O); the write-behind's batches run on the caller's thread, which is the
/// flusher's own (see ``write(_:)``).
/// Snowflakes are stored as SQLite's signed 64-bit integers (same bits).
public final class SQLiteReadStatesStore: ReadStatesStore, ChannelStore, ServingHistory {
    private let pool: DatabasePool

    /// Opens (creating if needed) `read_states.sqlite` in `directory` and migrates
    /// its schema to the current version.
    public init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // Upserts land on random (user, channel) keys all over a table of millions
            // of rows: with SQLite's default 2 MB page cache nearly every one re-reads
            // B-tree pages. 64 MiB per connection keeps the inner pages resident.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // WAL + NORMAL: a commit survives a process crash; only an OS crash or power
            // loss can lose the last commits (the write-behind window is larger anyway).
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: directory.appendingPathComponent("read_states.sqlite").path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// Versioned schema: each migration runs once, in order, recorded by GRDB.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-read-states") { db in
            try db.execute(
                sql: """
                    CREATE TABLE read_states (
                        user_id INTEGER NOT NULL,
                        channel_id INTEGER NOT NULL,
                        last_message_id INTEGER NOT NULL,
                        mention_count INTEGER NOT NULL,
                        version INTEGER NOT NULL,
                        PRIMARY KEY (user_id, channel_id)
                    ) WITHOUT ROWID
                    """
            )
        }
        migrator.registerMigration("v2-channels") { db in
            try db.execute(
                sql: """
                    CREATE TABLE channels (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        last_message_id INTEGER
                    );
                    CREATE TABLE channel_members (
                        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                        user_id INTEGER NOT NULL,
                        PRIMARY KEY (channel_id, user_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v3-serving-history") { db in
            // One row (see `ServingHistory`): written when a run begins and when it ends.
            try db.execute(
                sql: """
                    CREATE TABLE serving_history (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        generation INTEGER NOT NULL,
                        serving INTEGER NOT NULL
                    )
                    """
            )
        }
        return migrator
    }

    // MARK: ServingHistory

    public func beginServing() async throws -> UInt32 {
        try await pool.write { db in
            let row = try Row.fetchOne(db, sql: "SELECT generation, serving FROM serving_history WHERE id = 1")
            let stored: Int64? = row?[0]
            let wasServing: Bool = row?[1] ?? false
            let generation = ServingGeneration.begin(stored: stored.map { UInt32(truncatingIfNeeded: $0) }, wasServing: wasServing)
            try db.execute(
                sql: """
                    INSERT INTO serving_history (id, generation, serving) VALUES (1, ?, 1)
                    ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, serving = 1
                    """,
                arguments: [Int64(generation)]
            )
            return generation
        }
    }

    public func endServing() async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE serving_history SET serving = 0 WHERE id = 1")
        }
    }

    // MARK: ChannelStore

    public func loadChannels() async throws -> [ChatChannel] {
        try await pool.read { db in
            var members: [Int64: [Snowflake]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT channel_id, user_id FROM channel_members") {
                members[row[0], default: []].append(Snowflake(rawValue: UInt64(bitPattern: row[1])))
            }
            return try Row.fetchAll(db, sql: "SELECT id, name, last_message_id FROM channels").map { row in
                let id: Int64 = row[0]
                let last: Int64? = row[2]
                return ChatChannel(
                    id: Snowflake(rawValue: UInt64(bitPattern: id)),
                    name: row[1],
                    members: members[id] ?? [],
                    lastMessageID: last.map { Snowflake(rawValue: UInt64(bitPattern: $0)) }
                )
            }
        }
    }

    public func saveChannel(_ channel: ChatChannel) async throws {
        let id = Int64(bitPattern: channel.id.rawValue)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO channels (id, name, last_message_id) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                        last_message_id = max(coalesce(channels.last_message_id, excluded.last_message_id),
                                              coalesce(excluded.last_message_id, channels.last_message_id))
                    """,
                arguments: [id, channel.name, channel.lastMessageID.map { Int64(bitPattern: $0.rawValue) }]
            )
            try db.execute(sql: "DELETE FROM channel_members WHERE channel_id = ?", arguments: [id])
            for member in Set(channel.members) {
                try db.execute(
                    sql: "INSERT INTO channel_members (channel_id, user_id) VALUES (?, ?)",
                    arguments: [id, Int64(bitPattern: member.rawValue)]
                )
            }
        }
    }

    public func recordLastMessages(_ lastMessages: [Snowflake: Snowflake]) async throws {
        guard !lastMessages.isEmpty else { return }
        try await pool.write { db in
            for (channel, message) in lastMessages {
                let message = Int64(bitPattern: message.rawValue)
                try db.execute(
                    sql: "UPDATE channels SET last_message_id = ? WHERE id = ? AND (last_message_id IS NULL OR last_message_id < ?)",
                    arguments: [message, Int64(bitPattern: channel.rawValue), message]
                )
            }
        }
    }

    public func load(user: Snowflake) async throws -> [ReadState] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT channel_id, last_message_id, mention_count, version FROM read_states WHERE user_id = ?",
                arguments: [Int64(bitPattern: user.rawValue)]
            ).map { row in
                ReadState(
                    channelID: Snowflake(rawValue: UInt64(bitPattern: row[0])),
                    lastMessageID: Snowflake(rawValue: UInt64(bitPattern: row[1])),
                    mentionCount: row[2],
                    version: UInt32(truncatingIfNeeded: row[3] as Int64)
                )
            }
        }
    }

    /// One multi-row upsert per batch, in one transaction. The `WHERE` keeps a stored
    /// row whose version is at least the written one.
    ///
    /// Synchronous on the calling thread (GRDB runs a blocking write there, serialized
    /// with other writes, and it cannot be cancelled midway): the write-behind flusher
    /// calls it from its low-priority thread, so SQLite's CPU work (B-tree updates, WAL
    /// writes, checkpoints) runs at that priority instead of on GRDB's writer thread at
    /// the serving threads'. A channel write waiting for GRDB's writer meanwhile waits
    /// for that batch.
    public func write(_ states: [UserReadState]) async throws {
        try writeBlocking(states)
    }

    private func writeBlocking(_ states: [UserReadState]) throws {
        guard !states.isEmpty else { return }
        // In primary-key order (as SQLite compares: signed): consecutive upserts then
        // walk neighbouring B-tree pages instead of random ones.
        let states = states.sorted { first, second in
            let a = Int64(bitPattern: first.userID.rawValue), b = Int64(bitPattern: second.userID.rawValue)
            return a != b ? a < b : Int64(bitPattern: first.state.channelID.rawValue) < Int64(bitPattern: second.state.channelID.rawValue)
        }
        // 5 parameters a row; SQLite allows 32,766 per statement.
        let rowsPerStatement = 6_000
        try pool.write { db in
            var start = 0
            while start < states.count {
                let chunk = states[start..<min(start + rowsPerStatement, states.count)]
                var arguments = StatementArguments()
                for item in chunk {
                    arguments += [
                        Int64(bitPattern: item.userID.rawValue),
                        Int64(bitPattern: item.state.channelID.rawValue),
                        Int64(bitPattern: item.state.lastMessageID.rawValue),
                        item.state.mentionCount,
                        Int64(item.state.version),
                    ]
                }
                let values = Array(repeating: "(?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                try db.execute(
                    sql: """
                        INSERT INTO read_states (user_id, channel_id, last_message_id, mention_count, version)
                        VALUES \(values)
                        ON CONFLICT (user_id, channel_id) DO UPDATE SET
                            last_message_id = excluded.last_message_id,
                            mention_count = excluded.mention_count,
                            version = excluded.version
                        WHERE excluded.version > read_states.version
                        """,
                    arguments: arguments
                )
                start += rowsPerStatement
            }
        }
    }
}
