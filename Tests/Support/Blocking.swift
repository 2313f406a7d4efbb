import Foundation
import Synchronization

/// Runs blocking work (a socket read, a child process, a server's `stop()`) on a
/// thread of its own and awaits it, for at most `seconds`.
///
/// Tests that block inside Swift's task pool starve it: on a 2-core machine the pool
/// has two threads, and a server under test answers from tasks on that same pool, so
/// two blocked tests running in parallel would wait on each other for ever.
///
/// - Throws: ``DeadlineExceeded`` naming `what` when the work has not finished in time
///   (the thread is left to finish on its own; the test fails instead of hanging), or
///   what `body` threw.
public func blocking<T: Sendable>(
    _ what: String = "blocking work",
    within seconds: Double = 60,
    _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let once = ResumeOnce(continuation)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            once.resume(with: .failure(DeadlineExceeded(what: what, seconds: seconds)))
        }
        let thread = Thread {
            once.resume(with: Result { try body() })
        }
        thread.start()
    }
}

/// Polls `condition` every `interval` until it holds, for at most `seconds`: for state
/// that another process writes (a log file, a terminal screen) and that gives no event
/// to await.
/// - Throws: ``DeadlineExceeded`` naming `what`.
public func eventually(
    _ what: String,
    within seconds: Double = 30,
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw DeadlineExceeded(what: what, seconds: seconds) }
        try await Task.sleep(for: interval)
    }
}

/// A wait in a test ran past its deadline: the test fails with what it waited for.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public var what: String
    public var seconds: Double
    public var description: String { "timed out after \(seconds) s waiting for \(what)" }
}

/// Resumes a continuation once, from whichever of two threads comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { pending in
            pending?.resume(with: result)
            pending = nil
        }
    }
}
