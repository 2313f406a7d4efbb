import Foundation
import Testing

/// Runs the built `readstates` executable, as a user would.
struct CommandRun {
    var status: Int32
    var standardOutput: String
    var standardError: String

    static func readstates(_ arguments: String...) throws -> CommandRun {
        try readstates(arguments: arguments)
    }

    /// The built executable: the test bundle sits in the same build products folder.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("readstates")

    static func readstates(arguments: [String]) throws -> CommandRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandRun(
            status: process.terminationStatus,
            standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self)
        )
    }
}

@Suite struct SnowflakeCommandTests {
    @Test func explainsAKnownID() throws {
        let run = try CommandRun.readstates("snowflake", "175928847299117063")
        #expect(run.status == 0)
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("timestamp: 2016-04-30T11:18:25.796Z"))
        #expect(lines.contains("worker: 1"))
        #expect(lines.contains("process: 0"))
        #expect(lines.contains("increment: 7"))
    }

    @Test(arguments: ["abc", "-5", "18446744073709551616"])
    func rejectsBadIDsWithExitCode2(id: String) throws {
        let run = try CommandRun.readstates("snowflake", id)
        #expect(run.status == 2)
        #expect(run.standardOutput.isEmpty)
        #expect(run.standardError.contains("readstates snowflake:"))
    }

    @Test func mintsAnIDThatExplainsToNow() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let minted = try CommandRun.readstates("snowflake", "--new")
        #expect(minted.status == 0)
        let id = minted.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let explained = try CommandRun.readstates("snowflake", id)
        let unix = explained.standardOutput.split(separator: "\n")
            .first { $0.hasPrefix("unix_ms: ") }
            .flatMap { UInt64($0.dropFirst("unix_ms: ".count)) }
        #expect(try #require(unix) >= before)
    }
}
