import Foundation

/// Runs blocking work (a socket read, waiting for a child process) on a thread of its
/// own and awaits it.
///
/// Tests that block inside Swift's task pool can starve it: on a 2-core machine the
/// pool has two threads, and a server under test answers from tasks on that same pool.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
