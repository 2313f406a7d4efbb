public import Foundation

/// A script in Tests/Clients (the third-party clients the tests drive: Python's
/// `websockets`, selenium).
public func clientScript(_ name: String) -> URL {
    PostgresTestServer.scriptsDirectory.deletingLastPathComponent().appendingPathComponent("Tests/Clients/\(name)")
}

/// Runs a script in Tests/Clients with Python to its end (at most `seconds`).
public func runClientScript(
    _ name: String, _ arguments: [String], within seconds: Double = 120
) async throws -> (status: Int32, output: String, error: String) {
    try await Subprocess.run("/usr/bin/env", ["python3", clientScript(name).path] + arguments, within: seconds)
}

/// Runs one of the project's own scripts (scripts/NAME) to its end, at most `seconds`.
/// - Returns: what it printed. Throws ``TestServerError`` with its error output when it fails.
@discardableResult
public func runProjectScript(_ name: String, _ arguments: [String], within seconds: Double) async throws -> String {
    let result = try await Subprocess.run(PostgresTestServer.scriptsDirectory.appendingPathComponent(name).path, arguments, within: seconds)
    guard result.status == 0 else {
        throw TestServerError("\(name) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.error)")
    }
    return result.output
}
