import Foundation
import TestSupport
import Testing

/// Versioned, partial READY through a real `readstates serve` and a third-party client
/// (Tests/Clients/partial_ready_check.py, Python's `websockets`), which starts,
/// restarts and kills the server itself.
@Suite(.timeLimit(.minutes(5))) struct PartialReadyTests {
    @Test func aPythonClientGetsPartialREADYAcrossRestartsAndTheFullSetAfterACrash() async throws {
        let run = try await runServeScript("partial_ready_check.py")
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("partial ready: all checks passed"))
    }
}
