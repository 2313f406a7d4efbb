import ArgumentParser
import Foundation
import Snowflake

/// `readstates snowflake ID` explains an ID; `readstates snowflake --new` mints one.
struct SnowflakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snowflake",
        abstract: "Print a Snowflake ID's timestamp and parts, or mint a new ID.",
        discussion: """
            Exit status: 0 on success, 2 when the ID is not a decimal 64-bit number.
            """
    )

    /// Collected raw (not as a plain positional) so that "-5" reaches our parser and
    /// gets its clear error and exit code 2, instead of being taken for an option.
    @Argument(parsing: .allUnrecognized, help: "A Snowflake ID as a decimal number, e.g. 175928847299117063.")
    var ids: [String] = []

    private var id: String? { ids.first }

    @Flag(name: .customLong("new"), help: "Print a freshly generated ID.")
    var mintNew = false

    @Option(help: "Worker number (0-31) for --new.")
    var worker: UInt8 = 0

    @Option(help: "Process number (0-31) for --new.")
    var process: UInt8 = 0

    func validate() throws {
        if mintNew == (id != nil) || ids.count > 1 {
            throw ValidationError("give either one ID or --new")
        }
        if worker > 31 || process > 31 {
            throw ValidationError("--worker and --process must be between 0 and 31")
        }
    }

    func run() throws {
        if mintNew {
            print(SnowflakeGenerator(worker: worker, process: process).next())
            return
        }
        let snowflake: Snowflake
        do {
            snowflake = try Snowflake.parse(id ?? "")
        } catch {
            FileHandle.standardError.write(Data("readstates snowflake: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print(Self.describe(snowflake))
    }

    /// `key: value` lines, one per part, with the time in ISO 8601 UTC with milliseconds.
    static func describe(_ snowflake: Snowflake) -> String {
        """
            id: \(snowflake)
            timestamp: \(iso8601(unixMilliseconds: snowflake.unixMilliseconds))
            unix_ms: \(snowflake.unixMilliseconds)
            worker: \(snowflake.worker)
            process: \(snowflake.process)
            increment: \(snowflake.increment)
            """
    }
}

/// Formats Unix milliseconds as `2016-04-30T11:18:25.796Z` from integers, so the
/// milliseconds are exact (a `Date` is a Double and can round .796 down to .795).
func iso8601(unixMilliseconds: UInt64) -> String {
    var seconds = time_t(unixMilliseconds / 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
        + "\(pad(Int32(unixMilliseconds % 1000), 3))Z"
}
