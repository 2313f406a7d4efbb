import Foundation
import TestSupport

/// Runs a Tests/Clients script that starts, restarts and stops `readstates serve` itself
/// (usage: `SCRIPT READSTATES_EXECUTABLE DATA_DIR PORT`), with the built executable, a
/// fresh data directory (removed afterwards) and a free port; at most 240 s.
func runServeScript(_ name: String) async throws -> (status: Int32, output: String, error: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-\(name)-\(UUID())")
    defer { try? FileManager.default.removeItem(at: directory) }
    guard let port = LoopbackPort.free() else { throw NoFreePort() }
    return try await runClientScript(name, [CommandRun.executable.path, directory.path, String(port)], within: 240)
}

struct NoFreePort: Error {}
