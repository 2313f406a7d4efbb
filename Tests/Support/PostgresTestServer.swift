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
    public static func shared() throws -> PostgresTestServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try PostgresTestServer()
            server = started
            return started
        }
    }

    private static let sharedServer = Mutex<PostgresTestServer?>(nil)
    private static let databaseCounter = Atomic<Int>(0)

    /// Creates and starts a server of its own (for tests that stop and start it).
    public init() throws {
        guard let port = LoopbackPort.free() else { throw TestServerError("no free loopback port") }
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-pg-\(UUID())")
        try start()
    }

    /// Starts the server (again, after ``stop()``), waiting until it accepts connections.
    public func start() throws {
        try Self.script("start", directory.path, String(port), String(getpid()))
    }

    /// Fast shutdown: connections are dropped, the files stay for ``start()``.
    public func stop() throws {
        try Self.script("stop", directory.path)
    }

    /// A fresh empty database on this server, as a connection URL.
    public func makeDatabase() throws -> String {
        let name = "test_\(getpid())_\(Self.databaseCounter.add(1, ordering: .relaxed).newValue)"
        try Self.script("createdb", String(port), name)
        return "postgres://readstates@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// The repository's `scripts/` folder, found from this source file's path.
    public static let scriptsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts")

    /// Runs the script with posix_spawn and waits with waitpid. (Foundation's
    /// `Process` here never noticed the script's exit when called from an async test,
    /// leaving it a zombie and the test hanging.) Its stderr goes to a file, read back
    /// for the error message.
    private static func script(_ arguments: String...) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-pg-\(UUID()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let path = scriptsDirectory.appendingPathComponent("postgres-server.sh").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TestServerError("cannot start \(path): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let message = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw TestServerError(
                "postgres-server.sh \(arguments.joined(separator: " ")) failed (status \(status)): \(message)"
            )
        }
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
