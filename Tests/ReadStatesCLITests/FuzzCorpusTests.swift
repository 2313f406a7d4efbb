import Foundation
import TestSupport
import Testing

/// The fuzz harnesses (Tests/Fuzz/Harness) replay every committed input, seeds and
/// past findings alike, in the plain build: a harness that no longer builds or an input
/// that crashes again fails here, without the sanitizers or libFuzzer.
@Suite(.timeLimit(.minutes(3))) struct FuzzCorpusTests {
    static let harness = CommandRun.executable.deletingLastPathComponent().appendingPathComponent("readstates-fuzz")
    static let corpus = PostgresTestServer.scriptsDirectory.deletingLastPathComponent().appendingPathComponent("Tests/Fuzz/corpus")

    @Test(arguments: ["client-payload", "server-message", "zlib-stream", "rest", "token", "snowflake", "url"])
    func everyCommittedInputRunsCleanly(target: String) async throws {
        let directory = Self.corpus.appendingPathComponent(target)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!files.isEmpty, "a seed corpus for \(target)")
        let run = try await Subprocess.run(Self.harness.path, [target, directory.path], within: 60)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("\(target): \(files.count) inputs run"))
    }

    @Test func anUnknownHarnessIsAUsageError() async throws {
        let run = try await Subprocess.run(Self.harness.path, ["nope"], within: 30)
        #expect(run.status == 64)
        #expect(run.error.contains("usage: readstates-fuzz"))
    }
}
