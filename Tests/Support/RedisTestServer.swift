public import Foundation

/// A real Redis server (Debian's package) on loopback, in a temporary directory,
/// started through `scripts/redis-server.sh`, which leaves a watchdog that stops it once
/// this test process is gone.
public final class RedisTestServer: Sendable {
    public let directory: URL
    public let port: Int32

    /// Starts a server of its own; a port taken meanwhile is tried again on another.
    public init() async throws {
        (directory, port) = try await startOnFreePort(named: "readstates-redis") { directory, port in
            try await Self.script("start", directory.path, String(port), String(getpid()))
        }
    }

    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts it again after ``stop()``, on the same port.
    public func start() async throws {
        try await Self.script("start", directory.path, String(port))
    }

    /// Shuts it down (its clients see the connection drop).
    public func stop() async throws {
        try await Self.script("stop", directory.path)
    }

    /// Runs a command with redis-cli and returns what it printed.
    public func cli(_ arguments: String...) async throws -> String {
        try await Self.script(["cli", String(port)] + arguments)
    }

    @discardableResult
    private static func script(_ arguments: String...) async throws -> String {
        try await script(arguments)
    }

    @discardableResult
    private static func script(_ arguments: [String]) async throws -> String {
        try await runProjectScript("redis-server.sh", arguments, within: 30)
    }
}
