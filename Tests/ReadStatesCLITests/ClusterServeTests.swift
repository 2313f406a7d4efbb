import Foundation
import TestSupport
import Testing

/// `readstates serve --cluster`: three nodes, then four, on a real Redis and a real
/// PostgreSQL, driven by a third-party client (Tests/Clients/cluster_check.py, Python's
/// `websockets`): messages, mentions and acks across nodes, `GET /api/gateway`, an
/// owner killed with -9, a node joining under load, Redis restarted.
@Suite(.timeLimit(.minutes(5))) struct ClusterServeTests {
    @Test func threeNodesServeEveryUserWhereverItsSessionsAreAndHealAfterADeathAJoinAndARedisRestart() async throws {
        let redis = try await RedisTestServer()
        let postgres = try await PostgresTestServer.shared()
        let database = try await postgres.makeDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-cluster-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var ports: [String] = []
        for _ in 0..<4 {
            guard let port = LoopbackPort.free() else { throw NoFreePort() }
            ports.append(String(port))
        }
        let run = try await runClientScript(
            "cluster_check.py",
            [
                CommandRun.executable.path, directory.path,
                PostgresTestServer.scriptsDirectory.appendingPathComponent("redis-server.sh").path, redis.directory.path, String(redis.port),
                database,
            ] + ports,
            within: 240
        )
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("cluster: all checks passed"))
    }

    @Test(arguments: [
        ["--cluster", "redis://127.0.0.1:1"],  // SQLite (the default store)
        ["--cluster", "redis://127.0.0.1:1", "--store", "sqlite"],
        ["--cluster", "http://x", "--store", "postgres"],
        ["--cluster", "redis://127.0.0.1:1", "--store", "postgres", "--port", "0"],
        ["--node-id", "a"],
        ["--cluster", "redis://127.0.0.1:1", "--store", "postgres", "--port", "9", "--node-id", "a b"],
    ])
    func clusterOptionsThatCannotWorkAreUsageErrors(_ arguments: [String]) async throws {
        let run = try await CommandRun.readstates(arguments: ["serve"] + arguments)
        #expect(run.status == 64, "\(arguments): \(run.standardError)")
    }

    @Test func aClusterWhoseRedisIsUnreachableIsAClearErrorAtStartUp() async throws {
        let postgres = try await PostgresTestServer.shared()
        let database = try await postgres.makeDatabase()
        guard let redisPort = LoopbackPort.free(), let port = LoopbackPort.free() else { throw NoFreePort() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-cluster-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try await CommandRun.readstates(arguments: [
            "serve", "--cluster", "redis://127.0.0.1:\(redisPort)", "--store", "postgres", "--postgres-url", database,
            "--port", String(port), "--data-dir", directory.path,
        ])
        #expect(run.status == 1)
        #expect(run.standardError.contains("could not join the cluster") && run.standardError.contains("Redis is unreachable"), "\(run.standardError)")
    }
}
