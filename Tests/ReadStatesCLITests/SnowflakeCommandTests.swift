import Foundation
import TestSupport
import Testing

/// Runs the built `readstates` executable, as a user would.
struct CommandRun {
    var status: Int32
    var standardOutput: String
    var standardError: String

    static func readstates(_ arguments: String...) async throws -> CommandRun {
        try await readstates(arguments: arguments)
    }

    /// The built executable: the test bundle sits in the same build products folder.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("readstates")

    /// Runs `readstates` to its end (at most `seconds`, then it is killed and this throws).
    static func readstates(arguments: [String], within seconds: Double = 120) async throws -> CommandRun {
        let run = try await Subprocess.run(executable.path, arguments, within: seconds)
        return CommandRun(status: run.status, standardOutput: run.output, standardError: run.error)
    }
}

@Suite(.timeLimit(.minutes(2))) struct SnowflakeCommandTests {
    @Test func explainsAKnownID() async throws {
        let run = try await CommandRun.readstates("snowflake", "175928847299117063")
        #expect(run.status == 0)
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("timestamp: 2016-04-30T11:18:25.796Z"))
        #expect(lines.contains("worker: 1"))
        #expect(lines.contains("process: 0"))
        #expect(lines.contains("increment: 7"))
    }

    @Test(arguments: ["abc", "-5", "18446744073709551616"])
    func rejectsBadIDsWithExitCode2(id: String) async throws {
        let run = try await CommandRun.readstates("snowflake", id)
        #expect(run.status == 2)
        #expect(run.standardOutput.isEmpty)
        #expect(run.standardError.contains("readstates snowflake:"))
    }

    @Test func mintsAnIDThatExplainsToNow() async throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let minted = try await CommandRun.readstates("snowflake", "--new")
        #expect(minted.status == 0)
        let id = minted.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let explained = try await CommandRun.readstates("snowflake", id)
        let unix = explained.standardOutput.split(separator: "\n")
            .first { $0.hasPrefix("unix_ms: ") }
            .flatMap { UInt64($0.dropFirst("unix_ms: ".count)) }
        #expect(try #require(unix) >= before)
    }
}
