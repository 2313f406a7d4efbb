public import Foundation
import Synchronization

/// A child process started with posix_spawn and reaped with waitpid, its output sent
/// to files. (Foundation's `Process`, called from async tests here, sometimes never
/// noticed its child's exit, leaving a zombie and a hung test.)
///
/// Every wait has a deadline: past it the child is killed and the wait throws. A child
/// nobody waited for is killed when the last reference goes (a test that failed
/// half-way leaves nothing running).
public final class Subprocess: Sendable {
    public let pid: pid_t
    /// What the child is, for error messages.
    public let name: String
    private let reaped = Mutex<Int32?>(nil)

    private init(pid: pid_t, name: String) {
        self.pid = pid
        self.name = name
    }

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
        // The child starts as a supervisor would start it: no signal blocked, SIGTERM and
        // friends at their default action. (A thread of Swift's task pool blocks some
        // signals, and a mask is inherited through exec.)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw TestServerError("cannot start \(path): errno \(result)") }
        let shown = ([path] + arguments).prefix(4).map { URL(fileURLWithPath: $0).lastPathComponent }
        return Subprocess(pid: pid, name: shown.joined(separator: " "))
    }

    /// Waits at most `seconds` for the exit.
    /// - Returns: the exit status, or 128 + the signal that ended it.
    /// - Throws: ``DeadlineExceeded`` after killing the child when it is still running.
    public func exit(within seconds: Double = 60) async throws -> Int32 {
        do {
            return try await blocking("\(name) (pid \(pid)) to exit", within: seconds) { self.reap() }
        } catch let error as DeadlineExceeded {
            send(SIGKILL)
            throw error
        }
    }

    /// Signals the child while it has not been reaped (under the same lock that
    /// records the reaping, so a pid the system has reused is never signalled).
    public func send(_ signal: Int32) {
        reaped.withLock { status in
            guard status == nil else { return }
            kill(pid, signal)
        }
    }

    /// Whether the child has exited (reaping it if so), without waiting.
    public var hasExited: Bool {
        if reaped.withLock({ $0 != nil }) { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        record(status)
        return true
    }

    /// Runs to the end, for at most `seconds`, and returns (status, stdout, stderr).
    public static func run(
        _ path: String, _ arguments: [String], within seconds: Double = 120
    ) async throws -> (status: Int32, output: String, error: String) {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("readstates-out-\(UUID())")
        let err = directory.appendingPathComponent("readstates-err-\(UUID())")
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let status = try await spawn(path, arguments, stdout: out, stderr: err).exit(within: seconds)
        return (
            status,
            (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    /// Blocks in waitpid until the child exits. A wait that finds the child already
    /// reaped (ECHILD: `hasExited` got there first) returns the status recorded then.
    private func reap() -> Int32 {
        if let status = reaped.withLock({ $0 }) { return status }
        var status: Int32 = 0
        while true {
            if waitpid(pid, &status, 0) == pid { return record(status) }
            if errno == EINTR { continue }
            // 255: the status is unknown (nobody recorded it) — never a made-up 0.
            return reaped.withLock { $0 } ?? 255
        }
    }

    @discardableResult
    private func record(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        let status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        reaped.withLock { $0 = $0 ?? status }
        return status
    }

    deinit {
        guard reaped.withLock({ $0 == nil }) else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
