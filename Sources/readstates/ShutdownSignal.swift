import Foundation
import Synchronization

/// SIGTERM and SIGINT, caught from the moment ``install()`` returns and delivered as a
/// flag and an await instead of killing the process.
///
/// Installed first thing in a command's `run`, before any port opens, so that a
/// supervisor's SIGTERM at any later instant ends in an orderly exit:
/// ``arrived`` lets start-up stop between its steps, ``wait()`` ends serving.
///
/// A C signal handler writes the signal's number into a pipe (the self-pipe trick:
/// `write` is async-signal-safe), and a thread of its own reads it. There is no
/// moment at which the signal is ignored or takes its default action: the handler is
/// in place with one `sigaction`, and a signal that comes before anyone waits stays
/// in the pipe. (The previous design set `SIG_IGN` and then created a dispatch source,
/// and a signal between the two was lost; before it, a signal killed the process.)
final class ShutdownSignal: Sendable {
    private struct State {
        var name: String?
        var waiters: [CheckedContinuation<String, Never>] = []
    }

    private let state = Mutex(State())

    /// One per process: the handler and the pipe are process-wide.
    private static let shared = Mutex<ShutdownSignal?>(nil)

    /// Catches SIGTERM and SIGINT from now on (once per process; later calls return
    /// the same instance).
    static func install() -> ShutdownSignal {
        shared.withLock { existing in
            if let existing { return existing }
            let created = ShutdownSignal()
            created.start()
            existing = created
            return created
        }
    }

    /// The name of the first signal that arrived, if one did.
    var arrived: String? { state.withLock { $0.name } }

    /// Returns the first signal's name once one has arrived (at once if it already has).
    func wait() async -> String {
        await withCheckedContinuation { continuation in
            let name = state.withLock { state -> String? in
                if let name = state.name { return name }
                state.waiters.append(continuation)
                return nil
            }
            if let name { continuation.resume(returning: name) }
        }
    }

    private func start() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { fatalError("pipe failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A burst of signals must never block the handler: extra bytes are dropped.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        signalPipeWriteEnd.store(fds[1], ordering: .releasing)
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = shutdownSignalHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            guard sigaction(number, &action, nil) == 0 else { fatalError("sigaction failed: errno \(errno)") }
        }
        // A process may be started with the signals blocked (the mask survives exec):
        // unblocked here, so one already pending reaches the handler now.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &blocked, nil)
        let readEnd = fds[0]
        /// The next signal's number from the pipe (nil if the pipe fails).
        @Sendable func nextSignal() -> Int32? {
            var number: UInt8 = 0
            while true {
                let count = read(readEnd, &number, 1)
                if count == 1 { return Int32(number) }
                if count < 0 && errno == EINTR { continue }
                return nil
            }
        }
        let thread = Thread { [self] in
            guard let number = nextSignal() else { return }
            let name = number == SIGINT ? "SIGINT" : "SIGTERM"
            let waiters = state.withLock { state -> [CheckedContinuation<String, Never>] in
                state.name = name
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: name) }
            // A second signal is the operator insisting (a final flush against a store
            // that does not answer can take a while): stop at once, and say so.
            guard nextSignal() != nil else { return }
            let message = "readstates: a second signal: exiting now, without waiting for the final write (exit 1)\n"
            _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
            _exit(1)
        }
        thread.name = "shutdown-signal"
        thread.start()
    }
}

/// The write end of the signal pipe, read by the handler (which can capture nothing).
private let signalPipeWriteEnd = Atomic<Int32>(-1)

/// Async-signal-safe: one `write` of the signal's number; errno is preserved for the
/// code the signal interrupted.
private let shutdownSignalHandler: @convention(c) (Int32) -> Void = { number in
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd.load(ordering: .acquiring), &byte, 1)
    errno = saved
}
