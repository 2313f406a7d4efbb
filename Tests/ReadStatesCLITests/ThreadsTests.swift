import Foundation
import TestSupport
import Testing

/// `readstates serve --threads 2` with a third-party client (Tests/Clients/threads_check.py,
/// Python's `websockets`): a user's sessions on both service threads all get
/// MESSAGE_ACK and MESSAGE_CREATE in order, and RESUME works across threads.
@Suite(.timeLimit(.minutes(5))) struct ThreadsTests {
    @Test func sessionsOnBothThreadsGetEveryDispatchInOrderAndResumeAcrossThreads() async throws {
        let run = try await runServeScript("threads_check.py")
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("threads: all checks passed"))
    }

    @Test func badThreadCountsAreUsageErrors() async throws {
        for count in ["0", "65", "x"] {
            let run = try await CommandRun.readstates("serve", "--threads", count)
            #expect(run.status == 64, "--threads \(count)")
        }
    }
}
