import ReadStatesModule
import ReadStatesPostgres
import Snowflake
import TestSupport
import Testing

/// The database going away under a running write-behind flusher, with a real server
/// of the test's own that it stops and starts again.
@Suite(.timeLimit(.minutes(3))) struct PostgresOutageTests {
    @Test func writesFailWhileTheServerIsDownAndLandOnceItIsBack() async throws {
        // Its watchdog stops it when the test process ends, whatever happens here.
        let server = try await PostgresTestServer()
        var configuration = PostgresReadStatesStore.Configuration(url: try PostgresURL(await server.makeDatabase()))
        // Short enough that the outage below fails fast, long enough for a fresh server's
        // first queries on a machine busy with the rest of the suite (2 s was not, once).
        configuration.timeout = .seconds(8)
        let store = try await PostgresReadStatesStore(configuration: configuration)
        let writeBehind = WriteBehind(store: store, delay: 0)
        let engine = ReadStates(configuration: .init(capacity: 100, shards: 2), persistence: writeBehind)

        let before = try await engine.ack(user: id(1), channel: id(10), messageID: id(3))
        #expect(try await writeBehind.flush(from: engine) == 1)

        try await server.stop()
        let during = try await engine.ack(user: id(1), channel: id(10), messageID: id(8))
        let mentioned = try await engine.mention(user: id(1), channel: id(11), messageID: id(9))
        await #expect(throws: (any Error).self) { try await writeBehind.flush(from: engine) }
        #expect(writeBehind.pendingCount == 2)
        #expect(writeBehind.statistics.failedWrites == 1)
        // A miss fails within the timeout instead of hanging, and the cache still serves.
        await #expect(throws: (any Error).self) { try await engine.readStates(of: id(2)) }
        #expect(engine.readStatesIfCached(of: id(1))?.sortedByChannel() == [during.state, mentioned.state])

        try await server.start()
        var written = 0
        for _ in 0..<20 where written == 0 {
            written = (try? await writeBehind.flush(from: engine)) ?? 0
        }
        #expect(written == 2)
        #expect(writeBehind.pendingCount == 0)
        #expect(try await store.load(user: id(1)).sortedByChannel() == [during.state, mentioned.state])
        #expect(during.state.version > before.state.version)
        await store.shutdown()
        try await server.stop()
    }
}
