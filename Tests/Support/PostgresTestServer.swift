public import Foundation
import Gateway
import Synchronization

/// A real PostgreSQL server (Debian's package) on loopback, in a temporary directory,
/// started through `scripts/postgres-server.sh` as the test suite's own fixture.
///
/// The script leaves a watchdog behind that stops the server and deletes its files
/// once this test process is gone, so a crashed run leaves nothing running.
public final class PostgresTestServer: Sendable {
    public let directory: URL
    public let port: Int32

    /// One server for the whole test process, started on first use; each test takes
    /// a database of its own on it (``makeDatabase()``).
    public static func shared() async throws -> PostgresTestServer {
        let starting = sharedServer.withLock { task in
            if let task { return task }
            let started = Task { try await PostgresTestServer() }
            task = started
            return started
        }
        return try await starting.value
    }

    private static let sharedServer = Mutex<Task<PostgresTestServer, any Error>?>(nil)
    private static let databaseCounter = Atomic<Int>(0)

    /// Creates and starts a server of its own (for tests that stop and start it).
    /// (On another free port when the first start fails: ``startOnFreePort(named:_:)``.)
    public init() async throws {
        (directory, port) = try await startOnFreePort(named: "readstates-pg") { directory, port in
            try await Self.script("start", directory.path, String(port), String(getpid()))
        }
    }

    /// Starts the server (again, after ``stop()``), waiting until it accepts connections.
    public func start() async throws {
        try await Self.script("start", directory.path, String(port), String(getpid()))
    }

    /// Fast shutdown: connections are dropped, the files stay for ``start()``.
    public func stop() async throws {
        try await Self.script("stop", directory.path)
    }

    /// A fresh empty database on this server, as a connection URL.
    public func makeDatabase() async throws -> String {
        let name = "test_\(getpid())_\(Self.databaseCounter.add(1, ordering: .relaxed).newValue)"
        try await Self.script("createdb", String(port), name)
        return "postgres://readstates@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Runs `sql` (one or more statements) in the database of `url` (from
    /// ``makeDatabase()``), as a tool outside the product would.
    public func execute(_ sql: String, in url: String) async throws {
        guard let name = URLComponents(string: url)?.path.split(separator: "/").last else {
            throw TestServerError("no database name in \(url)")
        }
        try await Self.script("sql", String(port), String(name), sql)
    }

    /// The repository's `scripts/` folder, found from this source file's path.
    public static let scriptsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts")

    private static func script(_ arguments: String...) async throws {
        // pg_ctl itself waits at most 60 s for the server.
        try await runProjectScript("postgres-server.sh", arguments, within: 90)
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
