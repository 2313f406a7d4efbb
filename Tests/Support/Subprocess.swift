public import Foundation

/// A child process started with posix_spawn and reaped with waitpid, its output sent
/// to files. (Foundation's `Process`, called from async tests here, sometimes never
/// noticed its child's exit, leaving a zombie and a hung test.)
public struct Subprocess: Sendable {
    public let pid: pid_t

    /// Starts `path` with `arguments`; stdin reads the given file (a FIFO works: see
    /// ``InputPipe``), stdout and stderr go to the given files (or /dev/null).
    public static func spawn(
        _ path: String, _ arguments: [String], stdin: URL? = nil, stdout: URL? = nil, stderr: URL? = nil
    ) throws -> Subprocess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin?.path ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout?.path ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr?.path ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard result == 0 else { throw TestServerError("cannot start \(path): errno \(result)") }
        return Subprocess(pid: pid)
    }

    /// Waits for the exit: the exit status, or 128 + the signal that ended it.
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    public func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Runs to the end and returns (status, stdout, stderr).
    public static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("readstates-out-\(UUID())")
        let err = directory.appendingPathComponent("readstates-err-\(UUID())")
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let status = try spawn(path, arguments, stdout: out, stderr: err).wait()
        return (
            status,
            (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }
}
