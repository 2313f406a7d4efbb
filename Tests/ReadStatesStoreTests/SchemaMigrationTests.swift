import Foundation
import GRDB
import ReadStatesModule
import ReadStatesPostgres
import ReadStatesSQLite
import Snowflake
import TestSupport
import Testing

/// A database written by the previous schema version (v1: read states only, before
/// channels) opens with today's code, is migrated, and keeps every row.
@Suite(.timeLimit(.minutes(3))) struct SchemaMigrationTests {
    /// Rows a v1 database holds: (user, channel, last message, mentions, version).
    static let rows: [(UInt64, UInt64, UInt64, Int, UInt32)] = [
        (1, 10, 500, 0, 3), (1, 11, 499, 7, 9), (2, 10, 12, 1, 1),
        // IDs above Int64.max are stored with the same 64 bits, as negative integers.
        (UInt64(Int64.max) + 5, 10, UInt64.max - 1, 2, 4_000_000_000),
    ]

    /// The v1 schema exactly as release v1 created it, and its migration record.
    static let sqliteV1 = """
        CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
        INSERT INTO grdb_migrations VALUES ('v1-read-states');
        CREATE TABLE read_states (
            user_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            last_message_id INTEGER NOT NULL,
            mention_count INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (user_id, channel_id)
        ) WITHOUT ROWID;
        """

    static let postgresV1 = """
        CREATE TABLE readstates_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO readstates_migrations (name) VALUES ('v1-read-states');
        CREATE TABLE read_states (
            user_id bigint NOT NULL,
            channel_id bigint NOT NULL,
            last_message_id bigint NOT NULL,
            mention_count integer NOT NULL,
            version bigint NOT NULL,
            PRIMARY KEY (user_id, channel_id)
        );
        """

    static var insertRows: String {
        rows.map { user, channel, message, mentions, version in
            "INSERT INTO read_states VALUES (\(Int64(bitPattern: user << 22)), \(Int64(bitPattern: channel << 22)), "
                + "\(Int64(bitPattern: message)), \(mentions), \(version));"
        }.joined(separator: "\n")
    }

    func expectRowsKept(in store: any ReadStatesStore) async throws {
        for user in Set(Self.rows.map(\.0)) {
            let expected = Self.rows.filter { $0.0 == user }.map { _, channel, message, mentions, version in
                ReadState(channelID: Snowflake(rawValue: channel << 22), lastMessageID: Snowflake(rawValue: message), mentionCount: mentions, version: version)
            }
            let loaded = try await store.load(user: Snowflake(rawValue: user << 22)).sorted { $0.channelID < $1.channelID }
            #expect(loaded == expected, "user \(user)")
        }
    }

    /// The v2 tables exist and work.
    func expectChannelsWork(in store: any ChannelStore) async throws {
        #expect(try await store.loadChannels().isEmpty)
        let channel = ChatChannel(id: Snowflake(rawValue: 10 << 22), name: "general", members: [Snowflake(rawValue: 1 << 22)])
        try await store.saveChannel(channel)
        #expect(try await store.loadChannels().map(\.id) == [channel.id])
    }

    @Test func aVersion1SQLiteDatabaseIsMigratedWithItsRows() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-v1-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("read_states.sqlite").path)
        try await queue.write { db in try db.execute(sql: Self.sqliteV1 + Self.insertRows) }
        try queue.close()

        let store = try SQLiteReadStatesStore(directory: directory)
        try await expectRowsKept(in: store)
        try await expectChannelsWork(in: store)
        // Opening again migrates nothing twice and keeps both tables' rows.
        let reopened = try SQLiteReadStatesStore(directory: directory)
        try await expectRowsKept(in: reopened)
        #expect(try await reopened.loadChannels().count == 1)
    }

    @Test func aVersion1PostgreSQLDatabaseIsMigratedWithItsRows() async throws {
        let server = try await PostgresTestServer.shared()
        let url = try await server.makeDatabase()
        try await server.execute(Self.postgresV1 + Self.insertRows, in: url)
        let store = try await PostgresReadStatesStore(configuration: .init(url: try PostgresURL(url)))
        try await expectRowsKept(in: store)
        try await expectChannelsWork(in: store)
        await store.shutdown()
    }
}
