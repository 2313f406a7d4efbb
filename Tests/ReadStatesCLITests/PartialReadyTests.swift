import Foundation
import TestSupport
import Testing

/// Versioned, partial READY through a real `readstates serve` and a third-party client
/// (Tests/Clients/partial_ready_check.py, Python's `websockets`), which starts,
/// restarts and kills the server itself.
@Suite(.timeLimit(.minutes(5))) struct PartialReadyTests {
    @Test func aPythonClientGetsPartialREADYAcrossRestartsAndTheFullSetAfterACrash() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-partial-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try #require(LoopbackPort.free())
        let script = PostgresTestServer.scriptsDirectory.deletingLastPathComponent()
            .appendingPathComponent("Tests/Clients/partial_ready_check.py")
        let run = try await Subprocess.run(
            "/usr/bin/env", ["python3", script.path, CommandRun.executable.path, directory.path, String(port)], within: 240
        )
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("partial ready: all checks passed"))
    }
}
